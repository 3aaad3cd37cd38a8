"""How the assets domain plugs into the platform: connectors at start-up, stats.

``startup`` builds the connectors from ``settings.connectors`` into the process-wide holder
(``registries``); with Redis configured their rate limits are shared by every worker. Tests
install their own (built on ``httpx.ASGITransport``) with ``registries.set_connectors``;
``startup`` leaves connectors a test installed alone. With time travel allowed (demos), the
connectors send the service date as ``X-Mock-Today`` so the mock registries agree on expiry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.registry import ConnectorMap, build_connectors, discover
from enforcement.assets import freeze_jobs, registries
from enforcement.assets.models import Asset, Freeze
from enforcement.cases.events import CaseClosed, CaseSatisfied
from enforcement.cases.models import Case
from enforcement.core import clock, events, stats
from enforcement.core.settings import Settings

SERVICE_TODAY = "enforcement.core.clock:today"
_owned: ConnectorMap | None = None
_redis: Redis | None = None


def wire() -> None:
    """Register the "assets" statistics provider; release freezes when a case ends."""
    stats.register("assets", asset_stats)
    events.subscribe(CaseSatisfied, freeze_jobs.on_case_ended)
    events.subscribe(CaseClosed, freeze_jobs.on_case_ended)


async def startup(settings: Settings) -> None:
    """Build the connectors (unless a test installed some) for this process."""
    global _owned, _redis
    if registries.get_connectors():
        return
    if settings.redis_url:
        _redis = Redis.from_url(settings.redis_url)
    plugins = discover()
    config: dict[str, dict[str, Any]] = {k.lower(): dict(v) for k, v in settings.connectors.items()}
    if settings.allow_time_travel:  # demos: the mock registries expire by the service clock
        for name in plugins:
            config.setdefault(name, {}).setdefault("mock_today_from", SERVICE_TODAY)
    _owned = build_connectors(config, redis=_redis, plugins=plugins)
    registries.set_connectors(_owned)


async def shutdown() -> None:
    """Close what ``startup`` made."""
    global _owned, _redis
    if _owned is not None:
        if registries.get_connectors() is _owned:
            registries.set_connectors(None)
        await _owned.aclose()
        _owned = None
    if _redis is not None:
        await _redis.aclose()
        _redis = None


async def asset_stats(
    session: AsyncSession, date_from: dt.date, date_to: dt.date, court_code: str | None
) -> dict[str, Any]:
    """Assets found and freezes placed in the period (count and value in fen)."""
    start = clock.start_of_local_day(date_from)
    end = clock.start_of_local_day(date_to + dt.timedelta(days=1))
    scope = [Case.court_code == court_code] if court_code else []
    found = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Asset.value), 0))
            .join(Case, Case.id == Asset.case_id)
            .where(*scope, Asset.first_seen_at >= start, Asset.first_seen_at < end)
        )
    ).one()
    frozen = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Freeze.frozen + Freeze.deducted), 0))
            .join(Case, Case.id == Freeze.case_id)
            .where(
                *scope,
                Freeze.created_at >= start,
                Freeze.created_at < end,
                Freeze.status.in_(("active", "released", "expired")),
            )
        )
    ).one()
    return {
        "assets_found": int(found[0]),
        "assets_found_value": int(found[1]),
        "freezes_placed": int(frozen[0]),
        "frozen_value": int(frozen[1]),
    }
