"""How the blacklist domain plugs into the platform: event handlers, stats, start-up."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from blacklist import ratelimit, rules, service
from enforcement.cases.events import CaseClosed, CaseSatisfied
from enforcement.core import events, stats
from enforcement.core.settings import Settings


async def on_case_satisfied(session: AsyncSession, event: CaseSatisfied) -> None:
    """A paid-off case takes its debtors off the lists, in the payment's transaction."""
    await service.end_case_listings(session, event.case_id, "performed")


async def on_case_closed(session: AsyncSession, event: CaseClosed) -> None:
    """终结执行 and 不予执行 end the listings too (失信 10 (6), (7))."""
    reason = rules.CLOSE_MODE_REMOVAL.get(event.mode)
    if reason is not None:
        await service.end_case_listings(session, event.case_id, reason)


def wire() -> None:
    """Subscribe event handlers and register stats providers (called once per process)."""
    events.subscribe(CaseSatisfied, on_case_satisfied)
    events.subscribe(CaseClosed, on_case_closed)
    stats.register("listings", service.listing_stats)


async def startup(settings: Settings) -> None:
    """Prepare process-wide resources (called by the app and the worker)."""
    ratelimit.set_limiter(ratelimit.build(settings))


async def shutdown() -> None:
    """Release what ``startup`` made."""
    limiter = ratelimit.set_limiter(None)
    if limiter is not None:
        await limiter.close()
