"""The mock freeze book: partial, queued, promotion, expiry, idempotency, deduction."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.mock.book import BookError, FreezeBook

UNTIL = dt.date(2099, 1, 1)


def place(book: FreezeBook, key: str, court: str = "C1", **kw: object) -> object:
    args: dict = {
        "capacity": 1000,
        "amount_based": True,
        "asked": 600,
        "court_code": court,
        "case_number": "case",
        "order_number": "order",
        "until": UNTIL,
    }
    args.update(kw)
    return book.place(key, "acct", **args)


def test_partial_then_queued_then_promoted() -> None:
    book = FreezeBook("T")
    first = place(book, "k1", "C1")
    second = place(book, "k2", "C2")
    third = place(book, "k3", "C3")
    assert (first.state, first.frozen) == ("active", 600)
    assert (second.state, second.frozen) == ("active", 400)  # partial
    assert (third.state, third.frozen) == ("queued", 0)
    _, promoted = book.release(first.freeze_id)
    assert promoted is third
    assert (third.state, third.frozen) == ("active", 600)


def test_whole_asset_queue_in_arrival_order() -> None:
    book = FreezeBook("T")
    first = place(book, "k1", amount_based=False, asked=None)
    second = place(book, "k2", "C2", amount_based=False, asked=None)
    third = place(book, "k3", "C3", amount_based=False, asked=None)
    assert [f.state for f in (first, second, third)] == ["active", "queued", "queued"]
    assert book.release(first.freeze_id)[1] is second
    assert third.state == "queued"


def test_expiry_promotes_the_queue() -> None:
    today = dt.date(2030, 1, 1)
    book = FreezeBook("T", today=lambda: today)
    first = place(book, "k1", amount_based=False, asked=None, until=dt.date(2030, 6, 30))
    second = place(book, "k2", "C2", amount_based=False, asked=None)
    today = dt.date(2030, 7, 1)
    assert book.get(first.freeze_id).state == "expired"
    assert second.state == "active"


def test_same_key_same_freeze() -> None:
    book = FreezeBook("T")
    assert place(book, "k1") is place(book, "k1")
    assert len(book.freezes) == 1


def test_prior_court_makes_ours_partial() -> None:
    book = FreezeBook("T")
    ours = place(book, "k1", asked=None, prior_court="J9900", prior_amount=700)
    assert (ours.state, ours.frozen) == ("active", 300)


def test_empty_account_is_rejected() -> None:
    book = FreezeBook("T")
    assert place(book, "k1", capacity=0).state == "rejected"


def test_deduct_moves_money_once() -> None:
    book = FreezeBook("T")
    freeze = place(book, "k1")
    result = book.deduct("d1", freeze.freeze_id, 200)
    assert book.deduct("d1", freeze.freeze_id, 200) == result
    assert result["remaining_frozen"] == 400
    assert book.court_accounts["C1"] == 200
    assert book.debited("acct") == 200
    with pytest.raises(BookError):
        book.deduct("d2", freeze.freeze_id, 401)
