"""Auction test kernel: the asset tables exist, the payment mock is fresh, config is default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect

import tests.conftest as kernel
from auction import payments
from auction.config import reset_config
from enforcement.assets.models import Asset, Freeze
from enforcement.core import db


@pytest.fixture(autouse=True)
async def _asset_tables(engine: object) -> None:
    """Create the assets domain's tables if its migration does not yet (no-op once it does)."""
    async with db.get_engine().begin() as connection:
        present = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        if {"assets", "freezes"} <= present:
            return
        await connection.run_sync(
            lambda c: Asset.metadata.create_all(
                c, tables=[Asset.__table__, Freeze.__table__], checkfirst=True
            )
        )
    kernel._existing_tables.clear()  # let the truncation see the new tables


@pytest.fixture(autouse=True)
def provider() -> Iterator[payments.MockPaymentProvider]:
    """A fresh mock escrow per test, so refunds can be counted."""
    fresh = payments.MockPaymentProvider()
    previous = payments.set_provider(fresh)
    reset_config()
    yield fresh
    payments.set_provider(previous)
    reset_config()
