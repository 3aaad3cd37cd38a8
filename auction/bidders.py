"""Bidders and their deposits: real-name sign-up, registration for a round, bars.

A registration is the paid deposit (网拍 17) and gives the bidder an anonymous code for that
round (网拍 18). Priority holders are recognised here by their ID number and carry their rank
into every bid. Barred: staff of the court or platform (a flag) and the defaulting buyer of an
earlier round of the same lot (网拍 24 ¶2, 34).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auction.errors import (
    AlreadyRegistered,
    AuctionCancelled,
    AuctionClosed,
    AuctionNotFound,
    BidderBarred,
    BidderNotFound,
    PaymentFailed,
)
from auction.models import LIVE_STATUSES, Auction, Bidder, PriorityHolder, Registration, Settlement
from auction.payments import PaymentDeclined, get_provider
from auction.schemas import BidderCreate
from enforcement.core import audit, auth


async def create_bidder(
    session: AsyncSession, data: BidderCreate, now: dt.datetime
) -> tuple[Bidder, str]:
    """Sign a bidder up and hand out its bidder token (shown once)."""
    bidder = Bidder(
        kind="person" if data.id_number else "organization",
        name=data.name,
        id_number=data.id_number,
        credit_code=data.credit_code,
        phone=data.phone,
        barred=False,
        created_at=now,
    )
    session.add(bidder)
    await session.flush()
    _, token = await auth.create_token(session, role="bidder", name=data.name, subject_id=bidder.id)
    audit.record(
        session,
        action="auction.bidder_created",
        entity_type="auction_bidder",
        entity_id=bidder.id,
        after={"kind": bidder.kind, "name": bidder.name},
    )
    return bidder, token


async def get_bidder(session: AsyncSession, bidder_id: int | None) -> Bidder:
    """The bidder behind a bidder token."""
    bidder = await session.get(Bidder, bidder_id) if bidder_id is not None else None
    if bidder is None:
        raise BidderNotFound()
    return bidder


async def bar_bidder(session: AsyncSession, bidder_id: int, reason: str) -> Bidder:
    """Flag court or platform staff (and their relatives): they may never bid (网拍 34)."""
    bidder = await get_bidder(session, bidder_id)
    before = {"barred": bidder.barred}
    bidder.barred, bidder.barred_reason = True, reason
    await session.flush()
    audit.record(
        session,
        action="auction.bidder_barred",
        entity_type="auction_bidder",
        entity_id=bidder.id,
        before=before,
        after={"barred": True, "reason": reason},
    )
    return bidder


async def is_defaulter_of_lot(session: AsyncSession, lot_id: int, identifier: str) -> bool:
    """Did this person or organization default as the buyer of an earlier round of the lot?"""
    found = await session.scalar(
        select(Settlement.id)
        .where(
            Settlement.lot_id == lot_id,
            Settlement.status == "defaulted",
            Settlement.buyer_identifier == identifier,
        )
        .limit(1)
    )
    return found is not None


async def _new_code(session: AsyncSession, auction_id: int) -> str:
    taken = set(
        (
            await session.execute(
                select(Registration.code).where(Registration.auction_id == auction_id)
            )
        ).scalars()
    )
    while True:
        code = secrets.token_hex(2).upper()
        if code not in taken:
            return code


async def register(
    session: AsyncSession, bidder_id: int | None, auction_id: int, now: dt.datetime
) -> Registration:
    """Pay the deposit for a round; allowed until bidding ends, extensions included."""
    bidder = await get_bidder(session, bidder_id)
    auction = await session.get(Auction, auction_id)
    if auction is None:
        raise AuctionNotFound(details={"auction_id": auction_id})
    if auction.status == "cancelled":
        raise AuctionCancelled()
    if auction.status not in LIVE_STATUSES or now >= auction.ends_at:
        raise AuctionClosed()
    if bidder.barred or await is_defaulter_of_lot(session, auction.lot_id, bidder.identifier):
        raise BidderBarred()
    existing = await session.scalar(
        select(Registration.id).where(
            Registration.auction_id == auction_id, Registration.bidder_id == bidder.id
        )
    )
    if existing is not None:
        raise AlreadyRegistered(details={"registration_id": existing})
    rank = None
    if bidder.id_number:
        rank = await session.scalar(
            select(PriorityHolder.rank).where(
                PriorityHolder.auction_id == auction_id,
                PriorityHolder.id_number == bidder.id_number,
            )
        )
    try:
        reference = await get_provider().collect(
            f"deposit:{auction_id}:{bidder.id}", auction.deposit, bidder.identifier
        )
    except PaymentDeclined as exc:
        raise PaymentFailed() from exc
    registration = Registration(
        auction_id=auction_id,
        bidder_id=bidder.id,
        code=await _new_code(session, auction_id),
        priority_rank=rank,
        deposit=auction.deposit,
        payment_reference=reference,
        status="held",
        paid_at=now,
    )
    session.add(registration)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # the same bidder raced itself
        raise AlreadyRegistered() from exc
    audit.record(
        session,
        action="auction.deposit_paid",
        entity_type="auction_registration",
        entity_id=registration.id,
        after={"auction_id": auction_id, "deposit": registration.deposit, "rank": rank},
    )
    return registration
