"""Composition root of the ``enforcement`` command: serve, worker, migrate, demo, keys, audit.

Domains add their own commands (``sweep``…) through ``enforcement.domains``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from enforcement import domains
from enforcement.core import audit, auth, db
from enforcement.core.settings import get_settings

app = typer.Typer(help="Court enforcement engine.", no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def alembic_config(database_url: str | None = None) -> object:
    """Alembic configuration pointing at our migrations and the configured database."""
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    return config


def run_migrations(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)  # type: ignore[arg-type]


@app.command()
def migrate(revision: str = "head") -> None:
    """Bring the database to the newest schema."""
    run_migrations(revision=revision)
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = False,
) -> None:
    """Serve the API (embedded mode: also runs jobs in-process and the mock registries)."""
    import uvicorn

    from enforcement.app import create_app

    settings = get_settings()
    if migrate_first:
        run_migrations()
    mock_thread = None
    if settings.start_mock_registries:
        mock_thread = _start_mock_registries(settings.mock_registries_port)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    if mock_thread is not None:
        mock_thread.join(timeout=1)


def _start_mock_registries(port: int) -> threading.Thread:
    from connectors.mock import server

    thread = threading.Thread(
        target=server.run, kwargs={"host": "127.0.0.1", "port": port}, daemon=True
    )
    thread.start()
    typer.echo(f"mock registries on http://127.0.0.1:{port}")
    return thread


@app.command("mock-registries")
def mock_registries(host: str = "127.0.0.1", port: int = 8701) -> None:
    """Serve the four mock registries (bank, vehicle, securities, business)."""
    from connectors.mock import server

    server.run(host=host, port=port)


@app.command()
def worker(burst: bool = False) -> None:
    """Run an arq worker (needs ENFORCEMENT_REDIS_URL)."""
    from enforcement.worker import build_worker

    build_worker(burst=burst).run()


@app.command()
def demo(cases: int = 36) -> None:
    """Load demo data: realistic cases with valid identifiers (idempotent)."""
    from enforcement.demo import load_demo

    created = asyncio.run(_with_db(load_demo(cases)))
    typer.echo(f"demo data: {created} cases created")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin|officer|judge|credit|bidder")],
    court: Annotated[str | None, typer.Option(help="court code, e.g. 甘0602")] = None,
    name: Annotated[str, typer.Option()] = "cli",
) -> None:
    """Make an API token; it is printed once, as the last line."""

    async def create() -> str:
        async with db.unit_of_work() as session:
            _, token = await auth.create_token(session, role=role, name=name, court_code=court)
        return token

    token = asyncio.run(_with_db(create()))
    typer.echo(f"role={role} court={court or '-'} name={name}")
    typer.echo(token)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if a record was changed or removed."""

    async def check() -> audit.VerifyResult:
        async with db.unit_of_work() as session:
            return await audit.verify(session)

    result = asyncio.run(_with_db(check()))
    if result.ok:
        typer.echo(f"audit log intact: {result.checked} records")
        return
    typer.echo(f"audit log BROKEN after {result.checked} records: {result.problem}", err=True)
    raise typer.Exit(1)


async def _with_db(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine with the database configured, then close it."""
    db.configure(get_settings().database_url)
    domains.wire()
    try:
        return await coro
    finally:
        await db.dispose()


domains.register_commands(app)


def main() -> None:
    """Console-script entry point."""
    app()
