"""Jobs of the blacklist domain: webhook delivery and the nightly expiry of fixed terms.

Jobs are thin: they call the service with ids. Delivery jobs are enqueued by the feed after
each commit (job id ``webhook:{subscription}:{seq}``) and by retries.
"""

from __future__ import annotations

from typing import Any

from blacklist import service, webhooks
from blacklist.feed import DELIVER_JOB
from enforcement.core import clock, db, jobs

EXPIRE_BATCH = 500


@jobs.job(DELIVER_JOB, max_tries=3, timeout_seconds=600)
async def deliver_webhooks(ctx: dict[str, Any], subscription_id: int) -> int:
    """Serve one subscription until it is caught up or a delivery fails."""
    return await webhooks.deliver(subscription_id)


@jobs.job("blacklist.expire_listings", max_tries=3)
async def expire_listings(ctx: dict[str, Any]) -> int:
    """End every fixed-term listing whose end date has come (reason ``expired``)."""
    expired = 0
    while True:
        async with db.unit_of_work() as session:
            ids = await service.due_expiries(session, clock.today(), EXPIRE_BATCH)
            for listing_id in ids:
                expired += await service.expire_listing(session, listing_id)
        if len(ids) < EXPIRE_BATCH:
            return expired


jobs.cron("blacklist.expire_listings", hour=0, minute=10)
