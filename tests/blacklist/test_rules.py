"""The law of the lists as tables: grounds, who may be listed, terms, removal, deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from blacklist import rules
from blacklist.rules import ListingFacts

TODAY = dt.date(2026, 3, 2)  # a Monday

OK = ListingFacts(
    kind="dishonest",
    grounds=["obstructs_enforcement"],
    years=None,
    is_respondent=True,
    case_open=True,
    subject_kind="person",
    birth_date=dt.date(1980, 5, 17),
    owed_total=100_000,
)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, None),
        ({"kind": "blocked"}, "unknown_kind"),
        ({"grounds": ["owes_money"]}, "unknown_ground"),
        ({"grounds": []}, "ground_required"),
        ({"kind": "restricted", "grounds": []}, None),
        ({"kind": "restricted", "grounds": ["obstructs_enforcement"]}, "grounds_not_applicable"),
        ({"is_respondent": False}, "not_a_respondent"),
        ({"case_open": False}, "case_not_open"),
        ({"birth_date": dt.date(2008, 3, 3)}, "minor_not_listable"),  # 18 tomorrow
        ({"birth_date": dt.date(2008, 3, 2)}, None),  # 18 today
        (
            {"birth_date": dt.date(2010, 1, 1), "kind": "restricted", "grounds": []},
            "minor_not_listable",
        ),
        ({"birth_date": dt.date(2010, 1, 1), "subject_kind": "organization"}, None),
        ({"birth_date": None}, None),
        ({"already_listed": True}, "already_listed"),
        ({"relisting_barred": True}, "relisting_barred"),
        ({"relisting_barred": True, "kind": "restricted", "grounds": []}, None),
        # 失信 Art 3 applies to ground 1 only
        ({"grounds": ["able_but_refuses"], "adequately_secured": True}, "adequately_secured"),
        ({"grounds": ["able_but_refuses"], "frozen_total": 100_000}, "assets_sufficient"),
        ({"grounds": ["able_but_refuses"], "frozen_total": 99_999}, None),
        ({"grounds": ["able_but_refuses"], "later_in_order": True}, "later_in_order"),
        ({"adequately_secured": True, "frozen_total": 100_000, "later_in_order": True}, None),
        # terms (失信 Art 2)
        ({"years": 2}, None),
        ({"years": 3}, "extension_not_allowed"),
        ({"years": 3, "aggravated": True}, None),
        ({"years": 5, "grounds": ["obstructs_enforcement", "evades_enforcement"]}, None),
        ({"years": 6, "aggravated": True}, "invalid_term"),
        ({"years": 1}, "invalid_term"),
        ({"years": 2, "grounds": ["able_but_refuses"]}, "term_not_applicable"),
        ({"years": 2, "kind": "restricted", "grounds": []}, "term_not_applicable"),
    ],
)
def test_listing_refusals(changes, code):
    refusal = rules.listing_refusal(replace(OK, **changes), TODAY)
    assert (refusal.code if refusal else None) == code


@pytest.mark.parametrize(
    ("kind", "grounds", "years", "end"),
    [
        ("dishonest", ["obstructs_enforcement"], None, dt.date(2028, 3, 2)),
        ("dishonest", ["breaks_settlement"], 5, dt.date(2031, 3, 2)),
        ("dishonest", ["able_but_refuses"], None, None),
        ("dishonest", ["able_but_refuses", "evades_enforcement"], None, None),
        ("restricted", [], None, None),
    ],
)
def test_listing_end(kind, grounds, years, end):
    assert rules.listing_end(kind, grounds, years, TODAY) == end


def test_leap_day_term_ends_on_last_of_february():
    assert rules.listing_end(
        "dishonest", ["evades_enforcement"], None, dt.date(2028, 2, 29)
    ) == dt.date(2030, 2, 28)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (dt.date(2000, 3, 2), TODAY, 26),
        (dt.date(2000, 3, 3), TODAY, 25),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
    ],
)
def test_age(birth, day, age):
    assert rules.age_on(birth, day) == age


@pytest.mark.parametrize(
    ("reason", "by_system", "code"),
    [
        (None, False, "reason_required"),
        ("", False, "reason_required"),
        ("tired_of_it", False, "unknown_reason"),
        ("expired", False, "reason_reserved"),
        ("expired", True, None),
        *[(r, False, None) for r in rules.REMOVAL_REASONS if r != "expired"],
    ],
)
def test_removal_refusals(reason, by_system, code):
    refusal = rules.removal_refusal(reason, by_system=by_system)
    assert (refusal.code if refusal else None) == code


@pytest.mark.parametrize(
    ("trigger", "holidays", "deadline"),
    [
        (dt.date(2026, 3, 2), (), dt.date(2026, 3, 5)),  # Mon → Thu
        (dt.date(2026, 3, 5), (), dt.date(2026, 3, 10)),  # Thu → Tue (weekend skipped)
        (dt.date(2026, 3, 7), (), dt.date(2026, 3, 11)),  # Sat → Wed
        (dt.date(2026, 3, 2), (dt.date(2026, 3, 3),), dt.date(2026, 3, 6)),
    ],
)
def test_deletion_deadline_is_three_working_days(trigger, holidays, deadline):
    assert rules.deletion_deadline(trigger, holidays) == deadline


@pytest.mark.parametrize(
    ("ends_on", "today", "expired"),
    [(None, TODAY, False), (TODAY, TODAY, True), (dt.date(2026, 3, 3), TODAY, False)],
)
def test_is_expired(ends_on, today, expired):
    assert rules.is_expired(ends_on, today) is expired


@pytest.mark.parametrize(
    ("removed_on", "barred"),
    [(None, False), (dt.date(2025, 9, 3), True), (dt.date(2025, 9, 2), False)],
)
def test_relisting_bar_lasts_six_months(removed_on, barred):
    assert rules.relisting_barred(removed_on, TODAY) is barred


def test_restriction_outlives_only_the_expiry_of_its_defaulter_listing():
    assert not rules.cascades_to_implied("expired")
    assert all(rules.cascades_to_implied(r) for r in rules.REMOVAL_REASONS if r != "expired")
