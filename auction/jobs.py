"""Jobs of the auction domain: the deferred close, refunds, and the minute cron.

Jobs are thin: open a unit of work, call a use case with the service clock. Every job decides
what is due from ``clock.now()`` (never the wall), so moving the clock in a demo runs a whole
auction. The cron is the safety net behind the deferred jobs: it opens started rounds, closes
due ones, refunds held deposits of finished rounds and defaults unpaid buyers; each item runs
in its own transaction so one failure never blocks the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from auction import closing, settlement
from enforcement.core import clock, db, jobs

log = logging.getLogger(__name__)


@jobs.job("auction.close_auction", max_tries=5)
async def close_auction(ctx: dict[str, Any], auction_id: int) -> str:
    """Finalize a round at its end (re-schedules itself if a late bid moved the end)."""
    async with db.unit_of_work() as session:
        return await closing.close_auction(session, auction_id, clock.now())


@jobs.job("auction.refund_deposit", max_tries=10)
async def refund_deposit(ctx: dict[str, Any], registration_id: int) -> bool:
    """Return one deposit (exactly once: see ``settlement.refund_deposit``)."""
    async with db.unit_of_work() as session:
        return await settlement.refund_deposit(session, registration_id, clock.now())


@jobs.job("auction.process_due", max_tries=1, timeout_seconds=55)
async def process_due(ctx: dict[str, Any]) -> dict[str, int]:
    """Everything due by the service clock: open, close, refund, default."""
    now = clock.now()
    done = {"opened": 0, "closed": 0, "refunded": 0, "defaulted": 0}
    async with db.unit_of_work() as session:
        done["opened"] = await closing.open_started(session, now)
        to_close = await closing.due_for_close(session, now)
    for auction_id in to_close:
        done["closed"] += await _each(closing.close_auction, auction_id, now) in ("sold", "failed")
    async with db.unit_of_work() as session:
        to_default = await settlement.overdue_settlements(session, clock.today())
    for auction_id in to_default:
        done["defaulted"] += bool(await _each(settlement.default_buyer, auction_id, now))
    async with db.unit_of_work() as session:
        to_refund = await settlement.refunds_due(session)
    for registration_id in to_refund:
        done["refunded"] += bool(await _each(settlement.refund_deposit, registration_id, now))
    return done


async def _each(use_case: Any, item_id: int, now: Any) -> Any:
    """Run one item in its own transaction; log and go on if it fails."""
    try:
        async with db.unit_of_work() as session:
            return await use_case(session, item_id, now)
    except Exception:
        log.exception("auction cron: %s(%s) failed", use_case.__name__, item_id)
        return None


jobs.cron("auction.process_due", minute=None)
