"""Case rules, table-tested: fee bands, deadlines, payment split, closing conditions."""

from __future__ import annotations

import datetime as dt

import pytest

from enforcement.cases import rules


@pytest.mark.parametrize(
    ("principal_yuan", "fee_yuan"),
    [
        ("0.01", "50.00"),
        ("10000.00", "50.00"),
        ("10000.01", "50.00"),  # 1.5 % of one fen rounds down
        ("100000.00", "1400.00"),
        ("500000.00", "7400.00"),
        ("1000000.00", "12400.00"),
        ("5000000.00", "52400.00"),
        ("10000000.00", "77400.00"),
        ("50000000.00", "117400.00"),
    ],
)
def test_application_fee(principal_yuan, fee_yuan):
    from enforcement.core.money import format_yuan, parse_yuan

    assert format_yuan(rules.application_fee(parse_yuan(principal_yuan))) == fee_yuan


@pytest.mark.parametrize(
    ("filed", "deadline"),
    [
        (dt.date(2026, 3, 2), dt.date(2026, 9, 2)),  # Wednesday
        (dt.date(2026, 8, 31), dt.date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday → Monday
        (dt.date(2026, 1, 7), dt.date(2026, 7, 7)),
        (dt.date(2026, 1, 3), dt.date(2026, 7, 3)),  # Friday
        (dt.date(2026, 1, 4), dt.date(2026, 7, 6)),  # 4 July is a Saturday → Monday
    ],
)
def test_execution_deadline(filed, deadline):
    assert rules.execution_deadline(filed) == deadline


def test_deadline_skips_configured_holiday():
    assert rules.execution_deadline(dt.date(2026, 4, 1), [dt.date(2026, 10, 1)]) == dt.date(
        2026, 10, 2
    )


def test_add_working_days_skips_weekend():
    assert rules.add_working_days(dt.date(2026, 3, 6), 3) == dt.date(2026, 3, 11)  # Fri + 3


@pytest.mark.parametrize(
    ("amount", "outstanding", "fee_due", "fees_first", "split"),
    [
        (500, 1000, 100, False, (500, 0)),
        (1050, 1000, 100, False, (1000, 50)),
        (50, 1000, 100, True, (0, 50)),
        (600, 1000, 100, True, (500, 100)),
        (1100, 1000, 100, True, (1000, 100)),
    ],
)
def test_split_payment(amount, outstanding, fee_due, fees_first, split):
    result = rules.split_payment(amount, outstanding, fee_due, fees_first=fees_first)
    assert (result.to_principal, result.to_fee) == split


def test_split_refuses_overpayment():
    with pytest.raises(ValueError, match="exceeds"):
        rules.split_payment(1101, 1000, 100)


@pytest.mark.parametrize(
    ("mode", "outstanding", "filed", "today", "refusal"),
    [
        ("satisfied", 0, dt.date(2026, 1, 1), dt.date(2026, 2, 1), None),
        ("satisfied", 1, dt.date(2026, 1, 1), dt.date(2026, 2, 1), "case_not_satisfied"),
        (
            "terminated_this_round",
            5,
            dt.date(2026, 1, 1),
            dt.date(2026, 4, 1),
            "termination_too_early",
        ),
        ("terminated_this_round", 5, dt.date(2026, 1, 1), dt.date(2026, 4, 2), None),
        ("terminated", 5, dt.date(2026, 1, 1), dt.date(2026, 1, 2), None),
        ("vanished", 5, dt.date(2026, 1, 1), dt.date(2026, 1, 2), "unknown_close_mode"),
    ],
)
def test_close_refusal(mode, outstanding, filed, today, refusal):
    result = rules.close_refusal(mode, outstanding=outstanding, filed_on=filed, today=today)
    assert (result[0] if result else None) == refusal


def test_overdue():
    assert rules.is_overdue("open", dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert not rules.is_overdue("open", dt.date(2026, 1, 2), dt.date(2026, 1, 2))
    assert not rules.is_overdue("satisfied", dt.date(2026, 1, 1), dt.date(2026, 6, 2))
