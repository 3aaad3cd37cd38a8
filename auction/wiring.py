"""How the auction domain plugs into the platform: event handlers, stats, start-up."""

from __future__ import annotations

from enforcement.core.settings import Settings


def wire() -> None:
    """Subscribe event handlers and register stats providers (called once per process)."""


async def startup(settings: Settings) -> None:
    """Prepare process-wide resources (called by the app and the worker)."""


async def shutdown() -> None:
    """Release what ``startup`` made."""
