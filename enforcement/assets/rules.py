"""Pure law of seizure and freezing: legal periods, the over-seizure cap, renewals, polling.

No I/O: every function takes dates and amounts as arguments, so tests can table-test them.
Sources: rules.md §2 (民诉解释 485/487, 查封 19 and 27, 民诉法 85).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DIVISIBLE_KINDS = frozenset({"deposit"})
"""Money can be frozen to the exact amount; everything else is frozen as a whole."""

MAX_TERM_YEARS = {"deposit": 1, "vehicle": 2, "securities": 3, "equity": 3}
"""Longest term of one freeze (and of each renewal), by asset kind (民诉解释 485).

Deposits 1 year; movables (vehicles) 2 years; real estate and other property rights
(securities, equity) 3 years. An unknown kind gets the shortest term (the safe side)."""

EXPIRY_WARNING_DAYS = 30


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def max_term_years(kind: str) -> int:
    """The legal maximum term in years for an asset kind."""
    return MAX_TERM_YEARS.get(kind, 1)


def expiry_date(kind: str, starts_on: dt.date) -> dt.date:
    """Last day a freeze starting on ``starts_on`` may last.

    The start day is not counted (民诉法 85), so a one-year freeze from 2026-03-02 runs to
    2027-03-02 inclusive and lapses on 2027-03-03.
    """
    return add_years(starts_on, max_term_years(kind))


def is_lapsed(expires_on: dt.date | None, today: dt.date) -> bool:
    """True once the last day of the freeze has passed (查封 27: it lapses by itself)."""
    return expires_on is not None and today > expires_on


def expires_within(expires_on: dt.date | None, today: dt.date, days: int) -> bool:
    """True if the freeze is still in force but ends within ``days`` days."""
    return expires_on is not None and today <= expires_on <= today + dt.timedelta(days=days)


def renewal_refusal(
    kind: str, expires_on: dt.date | None, today: dt.date, until: dt.date | None = None
) -> tuple[str, dt.date | None]:
    """Check a renewal (续行); returns ``("", new_expiry)`` or ``(code, None)``.

    A renewal must be made before expiry (on the last day at the latest); it continues the
    freeze from its current expiry for at most the same legal maximum (民诉解释 485 ¶2-3).
    ``until`` asks for a shorter renewal.
    """
    if expires_on is None:
        return "freeze_not_active", None
    if is_lapsed(expires_on, today):
        return "freeze_expired", None
    longest = add_years(expires_on, max_term_years(kind))
    new_expiry = until or longest
    if new_expiry <= expires_on or new_expiry > longest:
        return "renewal_invalid", None
    return "", new_expiry


def weight(kind: str, *, status: str, frozen: int, requested: int, value: int) -> int:
    """How much one freeze counts against the cap, in fen.

    Deposits count what the bank froze (active) or what we asked for (queued: it may become
    effective). Indivisible assets count their full value whatever their state.
    """
    if kind in DIVISIBLE_KINDS:
        return frozen if status == "active" else requested
    return value


@dataclass(frozen=True)
class CapDecision:
    """The outcome of the over-seizure check: the fen to request, or a refusal."""

    allowed: bool
    requested: int
    remaining: int


def cap_decision(
    kind: str, *, owed: int, committed: int, value: int, amount: int | None
) -> CapDecision:
    """Apply the over-seizure cap (查封 19): never freeze more than claim + costs.

    ``owed`` is outstanding + fee outstanding; ``committed`` the weight of the case's freezes
    already active or queued. A deposit freeze asks for ``amount`` (default: the balance, cut
    to what is still owed) and is refused if ``amount`` exceeds what remains. An indivisible
    asset (vehicle, securities account, equity stake) cannot be split: it is allowed while
    anything remains owed and counts at its full value afterwards, the proviso of 查封 19
    ("unless indivisible"); once the claim is covered, further freezes are refused.
    """
    remaining = max(0, owed - committed)
    if remaining <= 0:
        return CapDecision(False, 0, remaining)
    if kind not in DIVISIBLE_KINDS:
        return CapDecision(True, value, remaining)
    if amount is None:
        wanted = min(value, remaining) if value > 0 else remaining
        return CapDecision(True, wanted, remaining)
    return CapDecision(amount <= remaining, amount, remaining)


def poll_delay_seconds(attempt: int, *, base: float = 2.0, ceiling: float = 300.0) -> float:
    """Backoff between polls of an asynchronous registry: 2, 4, 8 … seconds, capped."""
    return float(min(ceiling, base * 2 ** max(0, attempt - 1)))


MAX_POLLS = 12
"""Polls of an asynchronous inquiry before we give up on it (≈ 2 hours with the ceiling)."""

TERMINATED_REQUERY_MONTHS = 6
TERMINATED_REQUERY_YEARS = 5
"""终本 cases are re-queried every 6 months for 5 years (rules.md §7.12)."""
