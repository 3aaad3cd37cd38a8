"""Putting a frozen asset up for auction, preparing re-auctions, cancelling a round.

Use cases take the session and never commit. The announcement is public from creation; the
close job is enqueued for the scheduled end and re-schedules itself when bids move the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction import rules
from auction.config import get_config
from auction.errors import AssetAlreadyListed, AuctionNotFound, RuleViolation, WrongState
from auction.models import LIVE_STATUSES, Auction, Lot, PriorityHolder, Registration
from auction.schemas import AuctionCreate, PriorityHolderIn
from enforcement.assets.service import asset_for_sale
from enforcement.core import audit, jobs
from enforcement.core.auth import Principal, ensure_court

CLOSE_JOB = "auction.close_auction"
REFUND_JOB = "auction.refund_deposit"


def _raise(refusal: rules.Refusal) -> None:
    if refusal is not None:
        raise RuleViolation(refusal[1], code=refusal[0])


def schedule_close(session: AsyncSession, auction: Auction) -> None:
    """Enqueue the close for the round's current end (+grace)."""
    schedule_close_at(session, auction.id, auction.ends_at)


def schedule_close_at(session: AsyncSession, auction_id: int, ends_at: dt.datetime) -> None:
    """Enqueue the close for ``ends_at`` (+grace); the id makes a repeat a no-op."""
    due = ends_at + dt.timedelta(seconds=get_config().close_grace_seconds)
    stamp = int(ends_at.timestamp())
    jobs.enqueue(
        session,
        CLOSE_JOB,
        auction_id,
        job_id=f"auction:close:{auction_id}:{stamp}",
        defer_until=due,
    )


def schedule_refunds(session: AsyncSession, registration_ids: Sequence[int]) -> None:
    """One refund job per deposit; the job id makes each exactly-once on the queue."""
    for registration_id in registration_ids:
        jobs.enqueue(
            session, REFUND_JOB, registration_id, job_id=f"auction:refund:{registration_id}"
        )


def _snapshot(auction: Auction) -> dict[str, object]:
    return {
        "status": auction.status,
        "round": auction.round,
        "starting_price": auction.starting_price,
        "ends_at": auction.ends_at,
        "current_price": auction.current_price,
        "bid_count": auction.bid_count,
    }


async def add_round(
    session: AsyncSession,
    lot: Lot,
    *,
    round_no: int,
    previous: Auction | None,
    starting_price: int,
    deposit: int,
    increment: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    holders: Sequence[PriorityHolderIn | PriorityHolder],
    now: dt.datetime,
    mode: str = "auction",
) -> Auction:
    """Create one scheduled round of a lot with its priority holders and its close job."""
    auction = Auction(
        lot_id=lot.id,
        round=round_no,
        mode=mode,
        previous_id=previous.id if previous else None,
        court_code=lot.court_code,
        status="scheduled",
        starting_price=starting_price,
        deposit=deposit,
        increment=increment,
        announced_at=now,
        starts_at=starts_at,
        scheduled_end=ends_at,
        ends_at=ends_at,
        bid_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(auction)
    await session.flush()
    for holder in holders:
        session.add(
            PriorityHolder(
                auction_id=auction.id,
                name=holder.name,
                id_number=holder.id_number,
                rank=holder.rank,
            )
        )
    await session.flush()
    audit.record(
        session,
        action="auction.announced",
        entity_type="auction",
        entity_id=auction.id,
        after={**_snapshot(auction), "lot_id": lot.id, "starts_at": starts_at, "mode": mode},
    )
    schedule_close(session, auction)
    return auction


async def create_auction(
    session: AsyncSession, principal: Principal, data: AuctionCreate, now: dt.datetime
) -> Auction:
    """A first auction of a frozen asset of the officer's court, if every rule holds."""
    asset = await asset_for_sale(session, data.asset_id)
    ensure_court(principal, asset.court_code)
    listed = await session.scalar(
        select(Lot.id).where(Lot.asset_id == asset.asset_id, Lot.status.in_(("active", "disposal")))
    )
    if listed is not None:
        raise AssetAlreadyListed(details={"lot_id": listed})
    kind = asset.kind
    if kind not in rules.MOVABLE_KINDS | rules.PROPERTY_RIGHT_KINDS:
        raise RuleViolation("this kind of asset is not auctioned", code="asset_not_saleable")
    _raise(
        rules.check_starting_price(
            data.starting_price, appraisal=data.appraisal_price, previous_start=None
        )
    )
    _raise(rules.check_deposit(data.deposit, starting=data.starting_price))
    _raise(rules.check_increment(data.increment, starting=data.starting_price))
    _raise(
        rules.check_schedule(
            kind=kind,
            reauction=False,
            announced_at=now,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
    )
    lot = Lot(
        asset_id=asset.asset_id,
        case_id=asset.case_id,
        court_code=asset.court_code,
        kind=kind,
        description=asset.description,
        appraisal_price=data.appraisal_price,
        status="active",
        created_at=now,
    )
    session.add(lot)
    await session.flush()
    return await add_round(
        session,
        lot,
        round_no=1,
        previous=None,
        starting_price=data.starting_price,
        deposit=data.deposit,
        increment=data.increment,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        holders=data.priority_holders,
        now=now,
    )


async def _holders_of(session: AsyncSession, auction_id: int) -> list[PriorityHolder]:
    """A round's priority holders: their rights carry over to the lot's next round."""
    rows = await session.execute(
        select(PriorityHolder).where(PriorityHolder.auction_id == auction_id)
    )
    return list(rows.scalars())


async def prepare_reauction(
    session: AsyncSession, lot: Lot, previous: Auction, *, cut: bool, now: dt.datetime
) -> Auction:
    """The next round after a failure (price cut, next round) or a default (same price)."""
    if cut:
        start = rules.reauction_start(previous.starting_price, get_config().reauction_cut_percent)
    else:
        start = previous.starting_price
    _raise(
        rules.check_starting_price(
            start, appraisal=lot.appraisal_price, previous_start=previous.starting_price
        )
    )
    deposit = rules.scaled_deposit(
        previous.deposit, old_start=previous.starting_price, new_start=start
    )
    starts_at = now + dt.timedelta(days=rules.announcement_days(lot.kind, reauction=True))
    duration = max(previous.scheduled_end - previous.starts_at, rules.BIDDING_MIN)
    return await add_round(
        session,
        lot,
        round_no=previous.round + 1 if cut else previous.round,
        previous=previous,
        starting_price=start,
        deposit=deposit,
        increment=min(previous.increment, start),
        starts_at=starts_at,
        ends_at=starts_at + duration,
        holders=await _holders_of(session, previous.id),
        now=now,
    )


async def offer_for_sale(
    session: AsyncSession, lot: Lot, previous: Auction, *, now: dt.datetime
) -> Auction:
    """Online 变卖 after the second failure (or a sale buyer's default): the last auction's
    starting price, deposit and increment, a 60-day period from the announcement, in which
    the first bid opens a 24-hour bidding window (``rules.end_after_bid``). Priority purchase
    rights carry over."""
    lot.status = "active"
    return await add_round(
        session,
        lot,
        round_no=previous.round + 1 if previous.mode == "auction" else previous.round,
        previous=previous,
        starting_price=previous.starting_price,
        deposit=previous.deposit,
        increment=previous.increment,
        starts_at=now,
        ends_at=now + rules.SALE_PERIOD,
        holders=await _holders_of(session, previous.id),
        now=now,
        mode="sale",
    )


async def lock_auction(session: AsyncSession, auction_id: int) -> Auction:
    """Load the round under the lot's lock (FOR UPDATE on PostgreSQL) with fresh values."""
    auction = (
        await session.execute(
            select(Auction)
            .where(Auction.id == auction_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if auction is None:
        raise AuctionNotFound(details={"auction_id": auction_id})
    return auction


async def held_registrations(
    session: AsyncSession, auction_id: int, *, except_id: int | None = None
) -> list[int]:
    """Deposits of a round still held by the escrow."""
    query = select(Registration.id).where(
        Registration.auction_id == auction_id, Registration.status == "held"
    )
    if except_id is not None:
        query = query.where(Registration.id != except_id)
    return list((await session.execute(query.order_by(Registration.id))).scalars())


async def cancel_auction(
    session: AsyncSession, principal: Principal, auction_id: int, reason: str, now: dt.datetime
) -> Auction:
    """Withdraw a round that has not closed; every deposit goes back."""
    auction = await lock_auction(session, auction_id)
    ensure_court(principal, auction.court_code)
    if auction.status not in LIVE_STATUSES:
        raise WrongState(details={"status": auction.status})
    before = _snapshot(auction)
    auction.status, auction.cancel_reason = "cancelled", reason
    auction.closed_at = auction.updated_at = now
    lot = await session.get(Lot, auction.lot_id)
    if lot is not None:
        lot.status = "cancelled"
    await session.flush()
    audit.record(
        session,
        action="auction.cancelled",
        entity_type="auction",
        entity_id=auction.id,
        before=before,
        after={**_snapshot(auction), "reason": reason},
    )
    schedule_refunds(session, await held_registrations(session, auction.id))
    return auction
