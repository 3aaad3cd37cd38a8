"""One linear alembic history that goes up, down and up again, and matches the models."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from enforcement.cli import alembic_config
from enforcement.core.db import Base, make_engine
from tests.conftest import ON_POSTGRES, _create_pg_database, _drop_pg_database


def _diff(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return compare_metadata(context, Base.metadata)


async def _model_diff(url: str) -> list:
    engine = make_engine(url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    await engine.dispose()
    return diff


async def test_history_is_linear():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1
    revisions = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)


async def test_upgrade_downgrade_upgrade_and_no_diff(tmp_path):
    if ON_POSTGRES:
        name, url = await _create_pg_database()
    else:
        name, url = "", f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    try:
        config = alembic_config(url)
        await asyncio.to_thread(command.upgrade, config, "head")
        assert await _model_diff(url) == []
        await asyncio.to_thread(command.downgrade, config, "base")
        await asyncio.to_thread(command.upgrade, config, "head")
        assert await _model_diff(url) == []
    finally:
        if ON_POSTGRES:
            await _drop_pg_database(name)
