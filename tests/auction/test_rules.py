"""Rule tables for rules.md §1 (pure functions, no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from auction import rules
from auction.rules import Leader

T = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
M = 100  # fen per yuan


@pytest.mark.parametrize(
    ("starting", "appraisal", "previous", "code"),
    [
        (700_000 * M, 1_000_000 * M, None, None),
        (699_999 * M, 1_000_000 * M, None, "starting_price_too_low"),
        (1_200_000 * M, 1_000_000 * M, None, None),
        (560_000 * M, 1_000_000 * M, 700_000 * M, None),  # the maximum 20% cut
        (559_999 * M, 1_000_000 * M, 700_000 * M, "starting_price_too_low"),
        (700_000 * M, 1_000_000 * M, 700_000 * M, None),  # no cut at all
        (0, 1_000_000 * M, None, "starting_price_invalid"),
    ],
)
def test_starting_price(starting, appraisal, previous, code):
    refusal = rules.check_starting_price(starting, appraisal=appraisal, previous_start=previous)
    assert (refusal[0] if refusal else None) == code


@pytest.mark.parametrize(
    ("deposit", "starting", "ok"),
    [
        (5 * M, 100 * M, True),
        (499, 100 * M, False),
        (20 * M, 100 * M, True),
        (2001, 100 * M, False),
    ],
)
def test_deposit_range(deposit, starting, ok):
    assert (rules.check_deposit(deposit, starting=starting) is None) is ok


@pytest.mark.parametrize(
    ("kind", "reauction", "days"),
    [
        ("vehicle", False, 15),
        ("vehicle", True, 7),
        ("real_estate", False, 30),
        ("real_estate", True, 15),
        ("equity", False, 30),
        ("securities", True, 15),
    ],
)
def test_announcement_days(kind, reauction, days):
    assert rules.announcement_days(kind, reauction=reauction) == days


def test_deposits_are_not_auctioned():
    with pytest.raises(ValueError, match="not sold"):
        rules.announcement_days("deposit", reauction=False)


@pytest.mark.parametrize(
    ("kind", "notice", "bidding", "code"),
    [
        ("vehicle", dt.timedelta(days=15), dt.timedelta(hours=24), None),
        (
            "vehicle",
            dt.timedelta(days=15) - dt.timedelta(seconds=1),
            dt.timedelta(hours=24),
            "announcement_too_short",
        ),
        ("equity", dt.timedelta(days=29), dt.timedelta(hours=48), "announcement_too_short"),
        (
            "equity",
            dt.timedelta(days=30),
            dt.timedelta(hours=23, minutes=59),
            "bidding_period_too_short",
        ),
    ],
)
def test_schedule(kind, notice, bidding, code):
    refusal = rules.check_schedule(
        kind=kind,
        reauction=False,
        announced_at=T,
        starts_at=T + notice,
        ends_at=T + notice + bidding,
    )
    assert (refusal[0] if refusal else None) == code


START, STEP = 1000, 100


@pytest.mark.parametrize(
    ("amount", "leader", "rank", "confirm", "code"),
    [
        (1000, None, None, False, None),  # first bid at the start
        (999, None, None, False, "bid_too_low"),
        (1050, None, None, False, "bad_increment"),
        (1100, Leader(1000, None), None, False, None),
        (1000, Leader(1000, None), None, False, "bid_too_low"),  # equal: not for ordinary
        (900, Leader(1000, None), 1, False, "bid_too_low"),
        (1000, Leader(1000, None), 1, False, None),  # holder matches an ordinary leader
        (1000, Leader(1000, 2), 1, False, None),  # better rank matches a holder
        (1000, Leader(1000, 1), 1, False, "bid_too_low"),  # same rank: earlier bid keeps it
        (1000, Leader(1000, 1), 2, False, "bid_too_low"),  # worse rank
        (1100, Leader(1000, 1), None, False, None),  # anyone may go higher
        (2100, Leader(1000, None), None, False, "jump_needs_confirmation"),  # 11 steps
        (2000, Leader(1000, None), None, False, None),  # exactly K = 10 steps
        (2100, Leader(1000, None), None, True, None),
        (2100, None, None, False, "jump_needs_confirmation"),
    ],
)
def test_bid_comparator(amount, leader, rank, confirm, code):
    refusal = rules.bid_refusal(
        amount,
        starting=START,
        increment=STEP,
        leader=leader,
        rank=rank,
        jump_limit=10,
        confirm_jump=confirm,
    )
    assert (refusal[0] if refusal else None) == code


@pytest.mark.parametrize(
    ("ends_in", "bid_before_end", "moved_by"),
    [
        (dt.timedelta(hours=1), dt.timedelta(hours=1) - dt.timedelta(seconds=1), None),
        (dt.timedelta(minutes=10), dt.timedelta(minutes=6), None),
        (dt.timedelta(minutes=10), dt.timedelta(minutes=5), dt.timedelta(0)),
        (dt.timedelta(minutes=10), dt.timedelta(seconds=1), dt.timedelta(minutes=4, seconds=59)),
    ],
)
def test_extension(ends_in, bid_before_end, moved_by):
    ends = T + ends_in
    received = ends - bid_before_end
    new_end = rules.extended_end(ends, received)
    if moved_by is None:
        assert new_end == ends
    else:
        assert new_end == ends + moved_by == received + rules.EXTENSION


HOUR, MINUTE, DAY60 = dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(days=60)


@pytest.mark.parametrize(
    ("mode", "first", "ends_at", "received", "expected"),
    [
        # a fixed-price sale: the first bid ends the 60-day period 24 h later
        ("sale", True, T + DAY60, T + HOUR, T + 25 * HOUR),
        # … but never later than the period's own end (then the 5-minute rule applies)
        ("sale", True, T + 10 * HOUR, T + HOUR, T + 10 * HOUR),
        ("sale", True, T + 10 * MINUTE, T + 8 * MINUTE, T + 13 * MINUTE),
        # later sale bids only extend, like an auction
        ("sale", False, T + 24 * HOUR, T + 2 * HOUR, T + 24 * HOUR),
        ("sale", False, T + 24 * HOUR, T + 24 * HOUR - 2 * MINUTE, T + 24 * HOUR + 3 * MINUTE),
        # an auction's first bid does not shorten anything
        ("auction", True, T + DAY60, T + HOUR, T + DAY60),
        ("auction", True, T + 10 * MINUTE, T + 8 * MINUTE, T + 13 * MINUTE),
    ],
)
def test_end_after_bid(mode, first, ends_at, received, expected):
    assert rules.end_after_bid(mode, ends_at, received, first=first) == expected


def test_accepts_at_is_half_open():
    assert rules.accepts_at(T, starts_at=T, ends_at=T + dt.timedelta(seconds=1))
    assert not rules.accepts_at(
        T + dt.timedelta(seconds=1), starts_at=T, ends_at=T + dt.timedelta(seconds=1)
    )
    assert not rules.accepts_at(
        T - dt.timedelta(microseconds=1), starts_at=T, ends_at=T + rules.EXTENSION
    )


@pytest.mark.parametrize(
    ("price_yuan", "commission_yuan"),
    [
        (0, 0),
        (1_000_000, 50_000),
        (2_000_000, 100_000),
        (3_000_000, 130_000),
        (10_000_000, 340_000),
        (50_000_000, 1_140_000),
        (100_000_000, 1_640_000),
        (200_000_000, 2_140_000),
    ],
)
def test_traditional_commission_is_cumulative_by_band(price_yuan, commission_yuan):
    assert rules.traditional_commission(price_yuan * M) == commission_yuan * M


def test_commission_rounds_half_up_to_the_fen():
    assert rules.traditional_commission(10) == 1  # 0.5 fen → 1
    assert rules.traditional_commission(9) == 0


@pytest.mark.parametrize(
    ("price", "owed", "to_case", "surplus"),
    [(100, 150, 100, 0), (100, 100, 100, 0), (100, 30, 30, 70), (100, 0, 0, 100)],
)
def test_split_proceeds(price, owed, to_case, surplus):
    assert rules.split_proceeds(price, owed) == rules.Proceeds(to_case, surplus)


@pytest.mark.parametrize(
    ("previous", "cut", "start"),
    [(700_000 * M, 20, 560_000 * M), (700_000 * M, 10, 630_000 * M), (700_001, 20, 560_001)],
)
def test_reauction_start_never_cuts_more_than_20_percent(previous, cut, start):
    assert rules.reauction_start(previous, cut) == start
    assert rules.check_starting_price(start, appraisal=10**12, previous_start=previous) is None


def test_scaled_deposit_stays_in_range():
    assert rules.scaled_deposit(70_000, old_start=700_000, new_start=560_000) == 56_000
    assert rules.scaled_deposit(1, old_start=100, new_start=100) == 5
    assert rules.scaled_deposit(50, old_start=100, new_start=100) == 20


def test_balance_due_date_and_labels():
    assert rules.balance_due_on(dt.date(2026, 3, 20), 15) == dt.date(2026, 4, 4)
    assert rules.bidder_label("A3F9") == "竞买号 A3F9"
    assert rules.mask_name("张三丰") == "张**"
