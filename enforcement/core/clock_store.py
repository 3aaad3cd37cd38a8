"""Time travel for demos: the clock offset lives in the database so every process agrees.

Only active with ``ENFORCEMENT_ALLOW_TIME_TRAVEL=true``; otherwise the system clock runs as is
and nothing is read. Requests and jobs call ``refresh`` (cached for a second).
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import audit, clock
from enforcement.core.models import ClockOffset
from enforcement.core.settings import get_settings

_REFRESH_SECONDS = 1.0
_last_refresh = 0.0


async def refresh(session: AsyncSession, *, force: bool = False) -> None:
    """Load the stored offset into the system clock (no-op unless time travel is allowed)."""
    global _last_refresh
    if not get_settings().allow_time_travel:
        return
    current = clock.get_clock()
    if not isinstance(current, clock.SystemClock):
        return
    if not force and time.monotonic() - _last_refresh < _REFRESH_SECONDS:
        return
    row = await session.get(ClockOffset, 1)
    current.offset_seconds = float(row.offset_seconds) if row else 0.0
    _last_refresh = time.monotonic()


async def set_offset(session: AsyncSession, offset_seconds: int) -> None:
    """Store a new offset and apply it in this process at once."""
    row = await session.get(ClockOffset, 1)
    before = {"offset_seconds": row.offset_seconds if row else 0}
    if row is None:
        session.add(ClockOffset(id=1, offset_seconds=offset_seconds))
    else:
        row.offset_seconds = offset_seconds
    await session.flush()
    current = clock.get_clock()
    if isinstance(current, clock.SystemClock):
        current.offset_seconds = float(offset_seconds)
    audit.record(
        session,
        action="clock.moved",
        entity_type="clock",
        entity_id=1,
        before=before,
        after={"offset_seconds": offset_seconds},
    )
