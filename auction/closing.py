"""The close of a round: sold or failed, exactly once, after the last in-time bid has landed.

The close takes the same lot lock as the bids and re-reads ``ends_at``: a late bid may have
moved it, in which case the close re-schedules itself and returns. A round already closed is
left alone, so running the close twice (two workers, the cron and the deferred job) finalizes
once. Everything the close does — status, sale confirmation, the next round, the refund jobs —
is one transaction: a worker that dies half-way leaves nothing behind, and the re-run does it all.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction import live, rules
from auction.config import get_config
from auction.lots import (
    held_registrations,
    lock_auction,
    offer_for_sale,
    prepare_reauction,
    schedule_close,
    schedule_refunds,
)
from auction.models import LIVE_STATUSES, Auction, Bidder, Disposal, Lot, Registration, Settlement
from enforcement.core import audit, clock

MAX_ROUNDS = 2  # 网拍 26: after the second failure the court turns to 变卖 or 以物抵债


async def close_auction(session: AsyncSession, auction_id: int, now: dt.datetime) -> str:
    """Finalize a due round; returns what happened (sold, failed, rescheduled, already_*)."""
    auction = await lock_auction(session, auction_id)
    if auction.status not in LIVE_STATUSES:
        return f"already_{auction.status}"
    if now < auction.ends_at + dt.timedelta(seconds=get_config().close_grace_seconds):
        schedule_close(session, auction)
        return "rescheduled"
    lot = await session.get(Lot, auction.lot_id)
    assert lot is not None
    before = {"status": auction.status, "ends_at": auction.ends_at, "bid_count": auction.bid_count}
    auction.closed_at = auction.updated_at = now
    winner_label: str | None = None
    if auction.bid_count == 0 or auction.leader_registration_id is None:
        outcome = await _fail(session, lot, auction, now)
    else:
        outcome, winner_label = await _sell(session, lot, auction, now)
    await session.flush()
    live.publish_after_commit(
        session,
        auction.id,
        live.closed_event(
            auction.id, status=auction.status, price=auction.hammer_price, winner=winner_label
        ),
    )
    audit.record(
        session,
        action=f"auction.{outcome}",
        entity_type="auction",
        entity_id=auction.id,
        before=before,
        after={
            "status": auction.status,
            "hammer_price": auction.hammer_price,
            "winner_registration_id": auction.winner_registration_id,
        },
    )
    return outcome


async def _sell(
    session: AsyncSession, lot: Lot, auction: Auction, now: dt.datetime
) -> tuple[str, str]:
    """Hammer down: the sale confirmation names the real buyer; the losers get refunds.
    Returns the outcome and the winner's public code label."""
    registration = await session.get(Registration, auction.leader_registration_id)
    assert registration is not None
    bidder = await session.get(Bidder, registration.bidder_id)
    assert bidder is not None
    hammer = auction.current_price or 0
    auction.status, auction.hammer_price = "sold", hammer
    auction.winner_registration_id = registration.id
    session.add(
        Settlement(
            auction_id=auction.id,
            lot_id=lot.id,
            registration_id=registration.id,
            bidder_id=bidder.id,
            buyer_name=bidder.name,
            buyer_identifier=bidder.identifier,
            hammer_price=hammer,
            deposit_applied=registration.deposit,
            balance=max(0, hammer - registration.deposit),
            balance_due_on=rules.balance_due_on(
                clock.local_date(now), get_config().balance_due_days
            ),
            status="awaiting_payment",
            to_case=0,
            surplus_returned=0,
            commission_charged=0,
            commission_saved=rules.traditional_commission(hammer),
            created_at=now,
        )
    )
    schedule_refunds(
        session, await held_registrations(session, auction.id, except_id=registration.id)
    )
    return "sold", rules.bidder_label(registration.code)


async def _fail(session: AsyncSession, lot: Lot, auction: Auction, now: dt.datetime) -> str:
    """No bid: refund everyone; re-auction once at a lower price, then offer a disposal."""
    auction.status = "failed"
    schedule_refunds(session, await held_registrations(session, auction.id))
    await after_unsold(session, lot, auction, now, cut=True)
    return "failed"


async def after_unsold(
    session: AsyncSession, lot: Lot, auction: Auction, now: dt.datetime, *, cut: bool
) -> None:
    """Prepare the next round, or after the last round a disposal the officer decides.

    A fixed-price sale that nobody bought ends in a disposal again (in lieu or release); one
    whose buyer defaulted is offered for sale once more.
    """
    if auction.mode == "sale" and not cut:
        await offer_for_sale(session, lot, auction, now=now)
        return
    if cut and (auction.round >= MAX_ROUNDS or auction.mode == "sale"):
        lot.status = "disposal"
        session.add(
            Disposal(
                lot_id=lot.id,
                auction_id=auction.id,
                price=auction.starting_price,
                status="pending",
                to_case=0,
                excess_due=0,
                created_at=now,
            )
        )
        return
    await prepare_reauction(session, lot, auction, cut=cut, now=now)


async def due_for_close(session: AsyncSession, now: dt.datetime) -> list[int]:
    """Live rounds whose end (plus the grace) has passed: the cron's safety net."""
    cutoff = now - dt.timedelta(seconds=get_config().close_grace_seconds)
    rows = await session.execute(
        select(Auction.id).where(Auction.status.in_(LIVE_STATUSES), Auction.ends_at <= cutoff)
    )
    return list(rows.scalars())


async def open_started(session: AsyncSession, now: dt.datetime) -> int:
    """Flip scheduled rounds whose start has come to ``open`` (display; bids do not wait)."""
    rows = (
        (
            await session.execute(
                select(Auction)
                .where(
                    Auction.status == "scheduled", Auction.starts_at <= now, Auction.ends_at > now
                )
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for auction in rows:
        auction.status, auction.updated_at = "open", now
        audit.record(
            session,
            action="auction.opened",
            entity_type="auction",
            entity_id=auction.id,
            before={"status": "scheduled"},
            after={"status": "open"},
        )
    await session.flush()
    return len(rows)
