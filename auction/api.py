"""HTTP endpoints of the auction domain (contract: api.md, Auctions).

Public: the announcements and live state (``GET /auctions``, ``GET /auctions/{id}``) and
bidder sign-up. Officers create, cancel and dispose; bidders register, bid and pay. A bid's
legal time is stamped by the first dependency of its route, before anything else runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from auction import bidders, engine, live, lots, settlement, views
from auction.models import LIVE_STATUSES, Registration
from auction.rules import bidder_label
from auction.schemas import (
    AuctionCancel,
    AuctionCreate,
    AuctionRead,
    AuctionSummary,
    BidCreate,
    BidderBar,
    BidderCreate,
    BidderCreated,
    BidPlaced,
    DisposalDecide,
    DisposalRead,
    RegistrationRead,
    SettlementRead,
)
from enforcement.core import clock, db
from enforcement.core.auth import ensure_court
from enforcement.core.deps import Admin, Bidder, CourtStaff, OfficerOrAdmin, Session
from enforcement.core.idempotency import IdempotencyKey
from enforcement.core.schemas import ERROR_RESPONSES, Page

router = APIRouter(tags=["auction"], responses=ERROR_RESPONSES)
public_router = APIRouter(tags=["auction"], responses=ERROR_RESPONSES)


async def _received_at() -> dt.datetime:
    """The legal time of a bid: when it entered the system, by the service clock.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, which
    cost every bid a thread hop (and the GIL hand-offs that come with it) and stamped the bid
    only when a worker thread got to it, i.e. later than its ingress under load.
    """
    return clock.now()


ReceivedAt = Annotated[dt.datetime, Depends(_received_at)]


def _registration_read(registration: Registration) -> RegistrationRead:
    return RegistrationRead(
        id=registration.id,
        auction_id=registration.auction_id,
        code=registration.code,
        bidder=bidder_label(registration.code),
        deposit=registration.deposit,
        priority_rank=registration.priority_rank,
        status=registration.status,
        payment_reference=registration.payment_reference,
        paid_at=registration.paid_at,
    )


@router.post("/auctions", status_code=201, response_model=AuctionRead, summary="Announce")
async def create_auction(
    body: AuctionCreate, session: Session, principal: OfficerOrAdmin, idempotency: IdempotencyKey
) -> JSONResponse:
    """Put a frozen asset of the officer's court up for auction; public from now on."""

    async def handler() -> AuctionRead:
        now = clock.now()
        auction = await lots.create_auction(session, principal, body, now)
        return await views.auction_view(session, auction.id, now)

    return await idempotency.run(handler)


@public_router.get("/auctions", response_model=Page[AuctionSummary], summary="Auctions")
async def list_auctions(
    session: Session,
    status: Annotated[
        str | None, Query(pattern="^(" + "|".join(views.PUBLIC_STATUSES) + ")$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[AuctionSummary]:
    """Every round, newest first (public: bidders appear only as codes)."""
    items, next_cursor = await views.list_auctions(
        session, clock.now(), status=status, limit=limit, cursor=cursor
    )
    return Page[AuctionSummary](items=items, next_cursor=next_cursor)


@public_router.get("/auctions/{auction_id}", response_model=AuctionRead, summary="Auction")
async def get_auction(auction_id: int, session: Session) -> AuctionRead:
    """The announcement, the live price and end, the anonymous bid history, the result."""
    return await views.auction_view(session, auction_id, clock.now())


@router.post(
    "/auctions/{auction_id}/cancel", response_model=AuctionRead, summary="Cancel an auction"
)
async def cancel_auction(
    auction_id: int,
    body: AuctionCancel,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """Withdraw a round before it closes; every deposit is refunded."""

    async def handler() -> AuctionRead:
        now = clock.now()
        await lots.cancel_auction(session, principal, auction_id, body.reason, now)
        return await views.auction_view(session, auction_id, now)

    return await idempotency.run(handler, status=200)


@public_router.post("/bidders", status_code=201, response_model=BidderCreated, summary="Sign up")
async def create_bidder(
    body: BidderCreate, session: Session, idempotency: IdempotencyKey
) -> JSONResponse:
    """Real-name sign-up; the answer carries the bidder token, shown once."""

    async def handler() -> BidderCreated:
        bidder, token = await bidders.create_bidder(session, body, clock.now())
        return BidderCreated(id=bidder.id, token=token)

    return await idempotency.run(handler)


@router.post("/bidders/{bidder_id}/bar", status_code=200, summary="Bar a bidder")
async def bar_bidder(
    bidder_id: int,
    body: BidderBar,
    session: Session,
    principal: Admin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """Flag court or platform staff: they may not register or bid (网拍 34)."""

    async def handler() -> dict[str, object]:
        bidder = await bidders.bar_bidder(session, bidder_id, body.reason)
        return {"id": bidder.id, "barred": bidder.barred}

    return await idempotency.run(handler, status=200)


@router.post(
    "/auctions/{auction_id}/registrations",
    status_code=201,
    response_model=RegistrationRead,
    summary="Pay the deposit",
)
async def register(
    auction_id: int, session: Session, principal: Bidder, idempotency: IdempotencyKey
) -> JSONResponse:
    """Pay the deposit (mock escrow) and receive this round's anonymous bidder code."""

    async def handler() -> RegistrationRead:
        registration = await bidders.register(
            session, principal.subject_id, auction_id, clock.now()
        )
        return _registration_read(registration)

    return await idempotency.run(handler)


@router.post(
    "/auctions/{auction_id}/bids", status_code=201, response_model=BidPlaced, summary="Bid"
)
async def place_bid(
    received_at: ReceivedAt,
    auction_id: int,
    body: BidCreate,
    request: Request,
    session: Session,
    principal: Bidder,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """An explicit, irrevocable bid; refusals carry their own code and change nothing."""

    async def handler() -> BidPlaced:
        placed = await engine.place_bid(
            session,
            auction_id=auction_id,
            bidder_id=principal.subject_id or 0,
            amount=body.amount,
            received_at=received_at,
            confirm_jump=body.confirm_jump,
            client_key=request.headers.get("Idempotency-Key"),
        )
        if not placed.replay:
            live.publish_after_commit(
                session,
                auction_id,
                live.bid_event(
                    auction_id,
                    seq=placed.seq,
                    price=placed.amount,
                    ends_at=placed.ends_at,
                    bidder=placed.label,
                ),
            )
        return BidPlaced(seq=placed.seq, amount=placed.amount, ends_at=placed.ends_at)

    return await idempotency.run(handler)


def _sse(item: dict[str, Any]) -> bytes:
    """One server-sent event; the bid's ``seq`` is its id."""
    head = f"id: {item['seq']}\n" if item.get("seq") is not None else ""
    return f"{head}event: {item['type']}\ndata: {json.dumps(item, ensure_ascii=False)}\n\n".encode()


@public_router.get(
    "/auctions/{auction_id}/events",
    summary="Live bids (server-sent events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def auction_events(
    auction_id: int,
    max_events: Annotated[
        int | None, Query(ge=1, le=10_000, description="close after this many bid events")
    ] = None,
) -> StreamingResponse:
    """Watch a round live: a ``state`` event now, then one ``bid`` event per accepted bid
    (price, seq, ends_at, the bidder's anonymous code), published after its commit, and a last
    ``closed`` event (status, hammer price, the winner's code) when the round closes."""
    async with db.unit_of_work() as session:  # short: a stream must not hold a transaction
        view = await views.auction_view(session, auction_id, clock.now())
    state = {
        "type": "state",
        "auction_id": auction_id,
        "seq": view.bid_count or None,
        "status": view.status,
        "price": view.current_price,
        "ends_at": view.ends_at,
    }

    async def stream() -> AsyncIterator[bytes]:
        async with live.broadcaster().subscribe(auction_id) as queue:
            yield _sse(json.loads(json.dumps(state, default=str)))
            if view.status not in LIVE_STATUSES:
                return  # closed already: nothing more will happen
            sent = 0
            while max_events is None or sent < max_events:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield _sse(item)
                if item.get("type") == "closed":
                    return
                sent += 1

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/auctions/{auction_id}/payment",
    response_model=SettlementRead,
    summary="Pay the balance",
)
async def pay_balance(
    auction_id: int, session: Session, principal: Bidder, idempotency: IdempotencyKey
) -> JSONResponse:
    """The winner pays the balance; the proceeds go to the case, the asset is sold."""

    async def handler() -> SettlementRead:
        paid = await settlement.pay_balance(session, principal.subject_id, auction_id, clock.now())
        return await views.settlement_view(session, paid)

    return await idempotency.run(handler, status=200)


@router.get(
    "/auctions/{auction_id}/confirmation",
    response_model=SettlementRead,
    summary="Sale confirmation",
)
async def get_confirmation(
    auction_id: int, session: Session, principal: CourtStaff
) -> SettlementRead:
    """The sale confirmation with the buyer's real identity, for the court."""
    found = await settlement.settlement_of(session, auction_id)
    view = await views.auction_view(session, auction_id, clock.now())
    ensure_court(principal, view.court_code)
    return await views.settlement_view(session, found)


@router.post(
    "/auctions/{auction_id}/disposal", response_model=DisposalRead, summary="Decide a disposal"
)
async def decide_disposal(
    auction_id: int,
    body: DisposalDecide,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """After a second failure: fixed-price sale (变卖), in lieu of payment (以物抵债), release."""

    async def handler() -> DisposalRead:
        disposal = await settlement.decide_disposal(
            session, principal, auction_id, body.mode, body.note, clock.now()
        )
        return DisposalRead.model_validate(disposal)

    return await idempotency.run(handler, status=200)
