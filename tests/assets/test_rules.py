"""Table tests of the pure freeze rules (periods, cap arithmetic, renewal window)."""

from __future__ import annotations

import datetime as dt

import pytest

from enforcement.assets import rules

D = dt.date


@pytest.mark.parametrize(
    ("kind", "start", "expires"),
    [
        ("deposit", D(2026, 3, 2), D(2027, 3, 2)),
        ("vehicle", D(2026, 3, 2), D(2028, 3, 2)),
        ("securities", D(2026, 3, 2), D(2029, 3, 2)),
        ("equity", D(2028, 2, 29), D(2031, 2, 28)),
        ("deposit", D(2028, 2, 29), D(2029, 2, 28)),
        ("unknown", D(2026, 1, 1), D(2027, 1, 1)),
    ],
)
def test_expiry_by_kind(kind: str, start: dt.date, expires: dt.date) -> None:
    assert rules.expiry_date(kind, start) == expires


@pytest.mark.parametrize(
    ("kind", "expires_on", "today", "until", "result"),
    [
        ("deposit", D(2027, 3, 2), D(2027, 3, 1), None, ("", D(2028, 3, 2))),
        ("deposit", D(2027, 3, 2), D(2027, 3, 2), None, ("", D(2028, 3, 2))),
        ("deposit", D(2027, 3, 2), D(2027, 3, 3), None, ("freeze_expired", None)),
        ("deposit", D(2027, 3, 2), D(2027, 1, 1), D(2027, 9, 1), ("", D(2027, 9, 1))),
        ("deposit", D(2027, 3, 2), D(2027, 1, 1), D(2028, 3, 3), ("renewal_invalid", None)),
        ("deposit", D(2027, 3, 2), D(2027, 1, 1), D(2027, 3, 2), ("renewal_invalid", None)),
        ("vehicle", D(2028, 3, 2), D(2028, 1, 1), None, ("", D(2030, 3, 2))),
        ("equity", D(2029, 3, 2), D(2029, 1, 1), None, ("", D(2032, 3, 2))),
        ("equity", None, D(2029, 1, 1), None, ("freeze_not_active", None)),
    ],
)
def test_renewal(kind, expires_on, today, until, result) -> None:
    assert rules.renewal_refusal(kind, expires_on, today, until) == result


@pytest.mark.parametrize(
    ("kind", "owed", "committed", "value", "amount", "allowed", "requested"),
    [
        ("deposit", 100_00, 0, 500_00, None, True, 100_00),  # cut to what is owed
        ("deposit", 100_00, 0, 50_00, None, True, 50_00),  # the whole balance
        ("deposit", 100_00, 40_00, 500_00, 60_00, True, 60_00),
        ("deposit", 100_00, 40_00, 500_00, 60_01, False, 60_01),  # beyond the cap
        ("deposit", 100_00, 100_00, 500_00, None, False, 0),  # covered already
        ("deposit", 100_00, 0, 0, None, True, 100_00),  # empty account: ask for the claim
        ("vehicle", 100_00, 0, 900_00, None, True, 900_00),  # indivisible: whole value
        ("vehicle", 100_00, 99_99, 900_00, None, True, 900_00),
        ("equity", 100_00, 100_00, 1_00, None, False, 0),  # claim covered: refuse
    ],
)
def test_cap(kind, owed, committed, value, amount, allowed, requested) -> None:
    decision = rules.cap_decision(kind, owed=owed, committed=committed, value=value, amount=amount)
    assert (decision.allowed, decision.requested) == (allowed, requested)


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("deposit", "active", 30),
        ("deposit", "queued", 50),
        ("vehicle", "active", 900),
        ("vehicle", "queued", 900),
    ],
)
def test_weight(kind: str, status: str, expected: int) -> None:
    assert rules.weight(kind, status=status, frozen=30, requested=50, value=900) == expected


@pytest.mark.parametrize(
    ("expires_on", "today", "lapsed", "soon"),
    [
        (D(2027, 3, 2), D(2027, 3, 2), False, True),
        (D(2027, 3, 2), D(2027, 3, 3), True, False),
        (D(2027, 3, 2), D(2027, 1, 30), False, False),
        (D(2027, 3, 2), D(2027, 2, 1), False, True),
        (None, D(2027, 2, 1), False, False),
    ],
)
def test_lapse_and_warning(expires_on, today, lapsed, soon) -> None:
    assert rules.is_lapsed(expires_on, today) is lapsed
    assert rules.expires_within(expires_on, today, 30) is soon


def test_poll_backoff_grows_and_is_capped() -> None:
    assert [rules.poll_delay_seconds(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert rules.poll_delay_seconds(30) == 300.0
