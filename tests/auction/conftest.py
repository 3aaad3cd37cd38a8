"""Auction test kernel: the payment mock is fresh and the auction config is the default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auction import payments
from auction.config import reset_config


@pytest.fixture(autouse=True)
def provider() -> Iterator[payments.MockPaymentProvider]:
    """A fresh mock escrow per test, so refunds can be counted."""
    fresh = payments.MockPaymentProvider()
    previous = payments.set_provider(fresh)
    reset_config()
    yield fresh
    payments.set_provider(previous)
    reset_config()
