"""Test kernel: a fresh, migrated database per test session; clean tables per test.

``ENFORCEMENT_TEST_DATABASE_URL`` names a PostgreSQL server (a throw-away database is created
on it and dropped afterwards); unset, tests run on a SQLite file (the embedded default).
``ENFORCEMENT_TEST_REDIS_URL`` names Redis for the tests that run a real arq worker.
Migrating once per session also tests the migrations.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from enforcement import domains
from enforcement.app import create_app
from enforcement.core import auth, clock, db, jobs
from enforcement.core.db import Base
from enforcement.core.settings import Settings

PG_ADMIN_URL = os.environ.get("ENFORCEMENT_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("ENFORCEMENT_TEST_REDIS_URL", "")
ON_POSTGRES = PG_ADMIN_URL.startswith("postgresql")

requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="locking and concurrency are only real on PostgreSQL"
)
requires_redis = pytest.mark.skipif(not REDIS_URL, reason="needs ENFORCEMENT_TEST_REDIS_URL")

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=clock.SHANGHAI)
"""Where every test's clock starts: a Monday morning in Asia/Shanghai."""


async def _create_pg_database() -> tuple[str, str]:
    name = f"enf_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return name, make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(name: str) -> None:
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh database for this session, migrated to head with alembic."""
    from enforcement.cli import run_migrations

    if ON_POSTGRES:
        name, url = await _create_pg_database()
    else:
        folder = tempfile.mkdtemp(prefix="enf_test_")
        url = f"sqlite+aiosqlite:///{Path(folder) / 'test.db'}"
    import asyncio

    await asyncio.to_thread(run_migrations, url)
    yield url
    if ON_POSTGRES:
        await _drop_pg_database(name)


@pytest.fixture(scope="session")
async def settings(database_url: str) -> Settings:
    """Test settings: the session database, in-process jobs unless a test asks for Redis."""
    return Settings(
        database_url=database_url,
        redis_url=None,
        queue_name=f"enf-test:{secrets.token_hex(4)}",
        redis_prefix=f"enf-test:{secrets.token_hex(4)}:",
        start_mock_registries=False,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[object]:
    """The process-wide engine, configured once."""
    engine = db.configure(settings.database_url)
    domains.wire()
    yield engine
    await db.dispose()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """Every test runs on a clock it controls."""
    frozen = clock.FrozenClock(T0)
    previous = clock.set_clock(frozen)
    yield frozen
    clock.set_clock(previous)


_existing_tables: list[str] = []


async def _truncate_all() -> None:
    async with db.get_engine().begin() as connection:
        if not _existing_tables:
            present = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            ordered = [t.name for t in reversed(Base.metadata.sorted_tables)]
            _existing_tables.extend(name for name in ordered if name in present)
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in _existing_tables)
            await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in _existing_tables:
                await connection.execute(text(f'DELETE FROM "{name}"'))
        # the audit chain starts again: its head row is data the migration seeded
        await connection.execute(
            text("INSERT INTO audit_head (id, seq, prev_hash, hash) VALUES (1, 0, :g, :g)"),
            {"g": "0" * 64},
        )


@pytest.fixture
async def session(engine: object) -> AsyncIterator[AsyncSession]:
    """A plain session for service tests; tables are emptied afterwards."""
    async with db.get_sessionmaker()() as s:
        yield s
    await _truncate_all()


@pytest.fixture
async def uow(engine: object) -> AsyncIterator[Callable[[], object]]:
    """``async with uow() as session`` commits like a request does; tables emptied after."""
    yield db.unit_of_work
    await _truncate_all()


@pytest.fixture
def runner() -> Iterator[jobs.InProcessRunner]:
    """A fresh in-process job runner installed as the backend."""
    fresh = jobs.InProcessRunner()
    previous = jobs.set_backend(fresh)
    yield fresh
    jobs.set_backend(previous)


@pytest.fixture
async def app(
    settings: Settings, engine: object, runner: jobs.InProcessRunner
) -> AsyncIterator[object]:
    """The FastAPI app on the test database; tables emptied afterwards."""
    yield create_app(settings, manage_resources=False)
    await _truncate_all()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that talks to the app in-process (``/api/v1`` prefix included)."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
        yield c


TokenFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_token(engine: object) -> TokenFactory:
    """``await make_token("officer", court="甘0602")`` → Authorization headers."""

    async def factory(
        role: str, court: str | None = None, name: str = "test", subject_id: int | None = None
    ) -> dict[str, str]:
        async with db.unit_of_work() as s:
            _, token = await auth.create_token(
                s, role=role, name=name, court_code=court, subject_id=subject_id
            )
        return {"Authorization": f"Bearer {token}"}

    return factory


@pytest.fixture
async def officer(make_token: TokenFactory) -> dict[str, str]:
    """An officer of 甘0602 (the court of the default test case numbers)."""
    return await make_token("officer", court="甘0602", name="officer-甘0602")


@pytest.fixture
async def admin(make_token: TokenFactory) -> dict[str, str]:
    return await make_token("admin", name="admin")
