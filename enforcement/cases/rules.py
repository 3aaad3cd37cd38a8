"""Case rules from the law, pure: the application fee, the deadline, payment split, closing.

Sources: 诉讼费用交纳办法 14(1) (fee bands), 期限 5 (six months), 民诉法 85 (counting days),
执规 64 and 终本 1 (closing modes and their conditions). See ``rules.md`` §3.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# Cumulative fee bands of 收费 14(1): (upper bound in yuan, rate in basis points of a yuan).
_FEE_FLAT_UP_TO_FEN = 10_000 * 100
_FEE_FLAT_FEN = 50 * 100
_FEE_BANDS_FEN: tuple[tuple[int | None, int], ...] = (
    (500_000 * 100, 150),  # 10k–500k: 1.5 %
    (5_000_000 * 100, 100),  # 500k–5M: 1 %
    (10_000_000 * 100, 50),  # 5M–10M: 0.5 %
    (None, 10),  # above 10M: 0.1 %
)

EXECUTION_PERIOD_MONTHS = 6
TERMINATION_MIN_MONTHS = 3

CLOSE_MODES = (
    "satisfied",  # 执行完毕
    "terminated_this_round",  # 终结本次执行程序 (终本)
    "terminated",  # 终结执行
    "not_enforced",  # 不予执行
    "dismissed",  # 驳回申请
    "withdrawn_filing",  # 销案
)
OPEN_STATUSES = ("open",)


def application_fee(principal_fen: int) -> int:
    """申请执行费 in fen: ¥50 up to ¥10k, then 1.5 %/1 %/0.5 %/0.1 % by band, cumulative."""
    if principal_fen <= 0:
        raise ValueError("principal must be positive")
    fee = _FEE_FLAT_FEN
    lower = _FEE_FLAT_UP_TO_FEN
    for upper, basis_points in _FEE_BANDS_FEN:
        if principal_fen <= lower:
            break
        top = principal_fen if upper is None else min(principal_fen, upper)
        fee += (top - lower) * basis_points // 10_000
        if upper is None:
            break
        lower = upper
    return fee


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Aug + 6 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    """Weekends and configured holidays are not working days."""
    return day.weekday() < 5 and day not in set(holidays)


def next_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> dt.date:
    """A period ending on a holiday ends on the next working day (民诉法 85)."""
    days_off = set(holidays)
    while not is_working_day(day, days_off):
        day += dt.timedelta(days=1)
    return day


def execution_deadline(filed_on: dt.date, holidays: Iterable[dt.date] = ()) -> dt.date:
    """Six months from filing (期限 5), moved off a holiday."""
    return next_working_day(add_months(filed_on, EXECUTION_PERIOD_MONTHS), holidays)


def add_working_days(day: dt.date, count: int, holidays: Iterable[dt.date] = ()) -> dt.date:
    """``count`` working days after ``day`` (the start day is not counted)."""
    days_off = set(holidays)
    while count > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, days_off):
            count -= 1
    return day


@dataclass(frozen=True)
class PaymentSplit:
    """How much of a payment goes to the principal and how much to the fee."""

    to_principal: int
    to_fee: int


def split_payment(
    amount: int, outstanding: int, fee_outstanding: int, *, fees_first: bool = False
) -> PaymentSplit:
    """Split a payment. Debtor payments clear the claim first (the fee is settled after
    execution, 收费 20); sale proceeds pay costs and fees first (执规 34)."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    if amount > outstanding + fee_outstanding:
        raise ValueError("amount exceeds what is owed")
    if fees_first:
        to_fee = min(amount, fee_outstanding)
        return PaymentSplit(amount - to_fee, to_fee)
    to_principal = min(amount, outstanding)
    return PaymentSplit(to_principal, amount - to_principal)


def close_refusal(
    mode: str, *, outstanding: int, filed_on: dt.date, today: dt.date
) -> tuple[str, str] | None:
    """Why a case may not be closed this way, as ``(code, message)``; None if it may."""
    if mode not in CLOSE_MODES:
        return "unknown_close_mode", f"mode must be one of {', '.join(CLOSE_MODES)}"
    if mode == "satisfied" and outstanding > 0:
        return "case_not_satisfied", "a case with money outstanding cannot close as satisfied"
    if mode == "terminated_this_round" and today <= add_months(filed_on, TERMINATION_MIN_MONTHS):
        return (
            "termination_too_early",
            "终本 needs more than three months since filing (终本 1(4))",
        )
    return None


def is_overdue(status: str, deadline: dt.date, today: dt.date) -> bool:
    """An open case past its deadline."""
    return status in OPEN_STATUSES and today > deadline
