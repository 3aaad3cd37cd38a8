"""The service clock: every rule and job takes time from here, never from the wall directly.

Tests replace it with a ``FrozenClock`` they can move; demos (``ENFORCEMENT_ALLOW_TIME_TRAVEL``)
run it ahead of the wall by an offset that is stored in the database so every process agrees.
Deadlines are calendar dates in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


class Clock(Protocol):
    """Anything that tells the time, timezone-aware."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock plus an optional offset (time travel for demos)."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC) + dt.timedelta(seconds=self.offset_seconds)


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: dt.datetime) -> None:
        self._at = ensure_aware(at)

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        self._at = ensure_aware(at)

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        self._at += delta if delta is not None else dt.timedelta(**kwargs)
        return self._at


_clock: Clock = SystemClock()


def now() -> dt.datetime:
    """The current service time (UTC, aware)."""
    return _clock.now()


def today() -> dt.date:
    """The current service date in Asia/Shanghai: legal periods count in local dates."""
    return now().astimezone(SHANGHAI).date()


def get_clock() -> Clock:
    """The clock in force."""
    return _clock


def set_clock(clock: Clock) -> Clock:
    """Install a clock; returns the previous one so tests can restore it."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def ensure_aware(value: dt.datetime) -> dt.datetime:
    """Reject naive datetimes: asyncpg would read them as the client's local time."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: a timezone is required")
    return value


def local_date(value: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an instant."""
    return ensure_aware(value).astimezone(SHANGHAI).date()


def start_of_local_day(day: dt.date) -> dt.datetime:
    """Midnight Asia/Shanghai of a date, as an aware instant."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)
