"""The bid path's pool check (kernel ``db.make_engine``): no ping round trip per request, yet a
connection the server dropped is never handed to a bid."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from enforcement.core import db
from tests.conftest import requires_postgres

pytestmark = requires_postgres


async def test_a_killed_backend_is_replaced_at_checkout(settings) -> None:
    pooled = db.make_engine(settings.database_url, pool_size=1)
    try:
        async with pooled.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with pooled.connect() as connection:  # reused as is: busy connections skip the ping
            assert await connection.scalar(text("SELECT pg_backend_pid()")) == pid
            await connection.rollback()
        async with db.make_engine(settings.database_url).connect() as killer:
            await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.2)  # the pooled connection sees the server's EOF
        async with pooled.connect() as connection:
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await pooled.dispose()


async def test_an_idle_connection_is_pinged_and_replaced(settings, monkeypatch) -> None:
    pooled = db.make_engine(settings.database_url, pool_size=1)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    try:
        async with pooled.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with pooled.connect() as connection:
            assert await connection.scalar(text("SELECT pg_backend_pid()")) == pid
    finally:
        await pooled.dispose()
