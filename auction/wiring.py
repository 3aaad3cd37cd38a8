"""How the auction domain plugs into the platform: stats provider, payment provider."""

from __future__ import annotations

from auction.stats import auction_stats
from enforcement.core import stats
from enforcement.core.settings import Settings


def wire() -> None:
    """Register the ``auctions`` figures of ``GET /stats`` (called once per process)."""
    stats.register("auctions", auction_stats)


async def startup(settings: Settings) -> None:
    """Nothing to open: the payment provider is the in-memory mock unless one is installed."""


async def shutdown() -> None:
    """Release what ``startup`` made (nothing)."""
