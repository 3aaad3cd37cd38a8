"""Statistics contributions: each domain adds its figures to ``GET /stats``.

The case domain owns the endpoint; assets, auction and lists register a provider through the
composition root, so the case domain never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

StatsProvider = Callable[[AsyncSession, dt.date, dt.date, str | None], Awaitable[dict[str, Any]]]
"""``(session, from_date, to_date, court_code or None for all) -> figures``."""

_providers: dict[str, StatsProvider] = {}


def register(name: str, provider: StatsProvider) -> None:
    """Add a domain's figures under ``name``."""
    _providers[name] = provider


def providers() -> dict[str, StatsProvider]:
    """Every registered provider."""
    return dict(_providers)
