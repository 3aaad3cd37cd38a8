"""Database kernel: the declarative base, column types, engine and the unit of work.

A request or a job opens a session with ``unit_of_work()``; services take the session, may
``flush()`` and never ``commit()``. The unit of work writes the buffered audit records, commits,
and only then releases the jobs enqueued during the transaction (dropped on rollback).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from enforcement.core.clock import UTC

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; a naming convention keeps migrations stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


BigId = BigInteger().with_variant(Integer(), "sqlite")
"""Primary keys: BIGINT on PostgreSQL, INTEGER on SQLite (only that autoincrements there)."""

Fen = BigInteger
"""Money column: integer fen."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware timestamps on both databases; SQLite would hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: a timezone is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


SQLITE_IMMEDIATE = "enforcement_sqlite_immediate"
"""Execution option: begin this connection's transaction with the SQLite write lock."""

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def make_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys on and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine.sync_engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    _check_on_checkout(engine.sync_engine)
    return engine


IDLE_PING_SECONDS = 10.0
"""A pooled connection idle longer than this is pinged before it is handed out."""


def _check_on_checkout(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip on busy connections.

    ``pool_pre_ping`` costs three round trips per checkout with asyncpg (BEGIN, ``;``,
    ROLLBACK), i.e. per request: measured on the bid path it was a third of the statements.
    Instead a connection the server closed (a restart, a killed backend: asyncpg sees the EOF)
    is replaced at no cost, and only one that sat idle for ``IDLE_PING_SECONDS`` is pinged; a
    failed check makes the pool connect afresh (``DisconnectionError``), as pre-ping would.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise DisconnectionError("the server closed this connection")
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its ping") from exc


def _configure_sqlite(engine: Engine) -> None:
    """Embedded mode: a unit of work starts with BEGIN IMMEDIATE.

    SQLite has one writer. A deferred transaction that read first and writes later fails at
    once if another writer committed in between (a stale WAL snapshot), so concurrent requests
    would lose writes. A unit of work (which may write) takes the write lock at BEGIN, which
    serialises writers while plain readers keep running beside them in WAL mode; the busy
    timeout makes the next writer wait. This follows SQLAlchemy's recipe for pysqlite and
    aiosqlite (we emit BEGIN ourselves), which also makes SAVEPOINTs behave.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def configure(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the process-wide engine and session factory."""
    global _engine, _sessionmaker
    _engine = make_engine(url, echo=echo)
    _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=True)
    return _engine


def get_engine() -> AsyncEngine:
    """The configured engine (``configure`` must have run)."""
    if _engine is None:
        raise RuntimeError("database not configured")
    return _engine


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The configured session factory."""
    if _sessionmaker is None:
        raise RuntimeError("database not configured")
    return _sessionmaker


async def dispose() -> None:
    """Close every pooled connection."""
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _sessionmaker = None


def is_postgres(session: AsyncSession) -> bool:
    """Locking and server-side features exist only on PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[AsyncSession]:
    """One transaction: commit on success (audit first, jobs after), roll back on error."""
    from enforcement.core import audit, clock_store, jobs  # local: they import this module

    async with get_sessionmaker()() as session:
        try:
            if session.get_bind().dialect.name == "sqlite":
                await session.connection(execution_options={SQLITE_IMMEDIATE: True})
            await clock_store.refresh(session)
            yield session
            await audit.write_pending(session)
            await session.commit()
        except BaseException:
            await session.rollback()
            jobs.discard_pending(session)
            audit.discard_pending(session)
            raise
        await jobs.release_pending(session)
