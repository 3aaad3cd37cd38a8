"""Event handlers run inside the publisher's transaction."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from enforcement.core import audit, events
from enforcement.core.models import AuditRecord


@dataclass(frozen=True)
class Happened:
    value: int


async def _handler(session, event: Happened) -> None:
    audit.record(session, action="test.reacted", entity_type="thing", entity_id=event.value)


async def test_handler_commits_with_publisher(uow):
    events.subscribe(Happened, _handler)
    async with uow() as s:
        await events.publish(s, Happened(1))
    with pytest.raises(RuntimeError):
        async with uow() as s:
            await events.publish(s, Happened(2))
            raise RuntimeError("rollback")
    async with uow() as s:
        ids = (await s.execute(select(AuditRecord.entity_id))).scalars().all()
    assert ids == ["1"]
