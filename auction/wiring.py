"""How the auction domain plugs into the platform: stats provider, live-update broadcaster."""

from __future__ import annotations

from auction import live
from auction.stats import auction_stats
from enforcement.core import stats
from enforcement.core.settings import Settings


def wire() -> None:
    """Register the ``auctions`` figures of ``GET /stats`` (called once per process)."""
    stats.register("auctions", auction_stats)


async def startup(settings: Settings) -> None:
    """Live updates go through Redis pub/sub when Redis is configured (several API processes)."""
    if settings.redis_url:
        live.set_broadcaster(live.RedisBroadcaster(settings.redis_url, settings.redis_prefix))


async def shutdown() -> None:
    """Close the Redis broadcaster, back to the in-process one."""
    previous = live.set_broadcaster(live.LocalBroadcaster())
    await previous.aclose()
