"""The law of the online judicial auction as pure functions (rules.md §1; 网拍 = SPC 2016).

No I/O and no clock: every time is a parameter, every amount is integer fen. Each check
returns ``None`` when the rule holds, or ``(code, message)`` so the service can raise it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

Refusal = tuple[str, str] | None

BIDDING_MIN = dt.timedelta(hours=24)  # 网拍 20
EXTENSION = dt.timedelta(minutes=5)  # 网拍 20: counted from the late bid
FIRST_START_MIN_PERCENT = 70  # 网拍 10: ≥70% of the appraisal / reference price
REAUCTION_MAX_CUT_PERCENT = 20  # 网拍 26: ≤20% below the previous starting price
DEPOSIT_MIN_PERCENT, DEPOSIT_MAX_PERCENT = 5, 20  # 网拍 17
SALE_PERIOD = dt.timedelta(days=60)  # online 变卖 (法明传〔2017〕455号 2°): a 60-day period
SALE_WINDOW = dt.timedelta(hours=24)  # … in which the first bid opens a 24 h bidding window

MOVABLE_KINDS = frozenset({"vehicle", "movable"})
PROPERTY_RIGHT_KINDS = frozenset({"real_estate", "equity", "securities", "property_right"})

# 拍变 29: what an entrusted auction house may charge, cumulative by band (basis points).
COMMISSION_BANDS: tuple[tuple[int | None, int], ...] = (
    (2_000_000_00, 500),
    (10_000_000_00, 300),
    (50_000_000_00, 200),
    (100_000_000_00, 100),
    (None, 50),
)


def announcement_days(kind: str, *, reauction: bool) -> int:
    """Minimum days between announcement and start: movables 15/7, property rights 30/15."""
    if kind in MOVABLE_KINDS:
        return 7 if reauction else 15
    if kind in PROPERTY_RIGHT_KINDS:
        return 15 if reauction else 30
    raise ValueError(f"asset kind {kind!r} is not sold at auction")


def check_starting_price(starting: int, *, appraisal: int, previous_start: int | None) -> Refusal:
    """First auction ≥70% of the appraisal; a re-auction at most 20% below the previous start."""
    if starting <= 0:
        return ("starting_price_invalid", "the starting price must be positive")
    if previous_start is None:
        if starting * 100 < appraisal * FIRST_START_MIN_PERCENT:
            return ("starting_price_too_low", "the starting price is below 70% of the appraisal")
        return None
    if starting * 100 < previous_start * (100 - REAUCTION_MAX_CUT_PERCENT):
        return (
            "starting_price_too_low",
            "a re-auction may start at most 20% below the previous starting price",
        )
    return None


def check_deposit(deposit: int, *, starting: int) -> Refusal:
    """The deposit lies within 5–20% of the starting price."""
    if deposit * 100 < starting * DEPOSIT_MIN_PERCENT:
        return ("deposit_out_of_range", "the deposit is below 5% of the starting price")
    if deposit * 100 > starting * DEPOSIT_MAX_PERCENT:
        return ("deposit_out_of_range", "the deposit is above 20% of the starting price")
    return None


def check_schedule(
    *,
    kind: str,
    reauction: bool,
    announced_at: dt.datetime,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> Refusal:
    """Announcement period (starts_at − announcement) by kind, and at least 24 h of bidding."""
    days = announcement_days(kind, reauction=reauction)
    if starts_at - announced_at < dt.timedelta(days=days):
        return (
            "announcement_too_short",
            f"a {kind} auction must be announced at least {days} days before it starts",
        )
    if ends_at - starts_at < BIDDING_MIN:
        return ("bidding_period_too_short", "bidding must last at least 24 hours")
    return None


def check_increment(increment: int, *, starting: int) -> Refusal:
    """A positive increment no larger than the starting price."""
    if increment <= 0 or increment > starting:
        return ("increment_invalid", "the increment must be positive and at most the start")
    return None


def reauction_start(previous_start: int, cut_percent: int = REAUCTION_MAX_CUT_PERCENT) -> int:
    """The starting price of a prepared re-auction: ``cut_percent`` below, never beyond 20%."""
    cut = min(cut_percent, REAUCTION_MAX_CUT_PERCENT)
    return -(-previous_start * (100 - cut) // 100)  # ceiling: never more than the cut


def scaled_deposit(deposit: int, *, old_start: int, new_start: int) -> int:
    """Keep the deposit's share of the start, clamped into the 5–20% range."""
    value = deposit * new_start // old_start if old_start else deposit
    low = -(-new_start * DEPOSIT_MIN_PERCENT // 100)
    high = new_start * DEPOSIT_MAX_PERCENT // 100
    return max(low, min(high, value))


@dataclass(frozen=True)
class Leader:
    """The current best bid: its amount and the priority rank of its bidder (None = none)."""

    amount: int
    rank: int | None


def outranks(rank: int | None, other: int | None) -> bool:
    """Does a holder of ``rank`` beat ``other`` at the same price? Lower rank numbers win."""
    if rank is None:
        return False
    return other is None or rank < other


def bid_refusal(
    amount: int,
    *,
    starting: int,
    increment: int,
    leader: Leader | None,
    rank: int | None,
    jump_limit: int,
    confirm_jump: bool,
) -> Refusal:
    """Is ``amount`` an acceptable next bid? Comparator (amount, rank, time), 网拍 20-21.

    The first bid is at least the start; later ones at least one increment above the current
    price, except that a priority holder may match it when its rank beats the leader's (same
    rank: the earlier bid keeps the lead). Amounts sit on the grid start + N × increment.
    """
    if amount < starting:
        return ("bid_too_low", "the bid is below the starting price")
    if (amount - starting) % increment:
        return ("bad_increment", "a bid must be the starting price plus a whole number of steps")
    base = starting if leader is None else leader.amount
    if leader is not None:
        if amount < leader.amount:
            return ("bid_too_low", "the bid is below the current price")
        if amount == leader.amount and not outranks(rank, leader.rank):
            return ("bid_too_low", "the bid must be at least one increment above the price")
    if amount > base + jump_limit * increment and not confirm_jump:
        return (
            "jump_needs_confirmation",
            f"the bid is more than {jump_limit} increments above; resend with confirm_jump",
        )
    return None


def minimum_bid(*, starting: int, increment: int, current: int | None) -> int:
    """The lowest amount an ordinary bidder may bid now."""
    return starting if current is None else current + increment


def extended_end(ends_at: dt.datetime, received_at: dt.datetime) -> dt.datetime:
    """A bid in the last five minutes moves the end to five minutes after that bid."""
    return max(ends_at, received_at + EXTENSION)


def end_after_bid(
    mode: str, ends_at: dt.datetime, received_at: dt.datetime, *, first: bool
) -> dt.datetime:
    """Where a round ends after an accepted bid: the 5-minute extension, and in a fixed-price
    sale (``mode="sale"``) the first bid also ends the 60-day period 24 hours later."""
    if mode == "sale" and first:
        ends_at = min(ends_at, received_at + SALE_WINDOW)
    return extended_end(ends_at, received_at)


def accepts_at(received_at: dt.datetime, *, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """The legal time of a bid is its ingress stamp: accept iff starts_at ≤ t < ends_at."""
    return starts_at <= received_at < ends_at


def balance_due_on(closed_on: dt.date, days: int) -> dt.date:
    """The balance is due ``days`` calendar days after the close (configurable; unverified)."""
    return closed_on + dt.timedelta(days=days)


def traditional_commission(price: int) -> int:
    """What an entrusted auction house could charge on ``price`` (拍变 29), in fen.

    Cumulative by band: 5% of the first ¥2M, 3% up to ¥10M, 2% to ¥50M, 1% to ¥100M, 0.5% above;
    rounded half up to the fen once at the end.
    """
    total_bp, lower = 0, 0
    for upper, basis_points in COMMISSION_BANDS:
        top = price if upper is None else min(price, upper)
        if top > lower:
            total_bp += (top - lower) * basis_points
        if upper is None or price <= upper:
            break
        lower = upper
    return (total_bp + 5000) // 10000


@dataclass(frozen=True)
class Proceeds:
    """How a hammer price is split: to the case (capped at what is owed) and back to the debtor."""

    to_case: int
    surplus: int


def split_proceeds(price: int, owed: int) -> Proceeds:
    """Cap the payment at what the case still owes; the rest returns to the debtor."""
    to_case = max(0, min(price, owed))
    return Proceeds(to_case, price - to_case)


def bidder_label(code: str) -> str:
    """The public, anonymous label of a registration (网拍 18: codes until the end)."""
    return f"竞买号 {code}"


def mask_name(name: str) -> str:
    """Keep the first character of a name, star the rest (published winner)."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""
