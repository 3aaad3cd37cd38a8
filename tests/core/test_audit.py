"""The audit log is a hash chain: any changed, removed or inserted record is detected."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from enforcement.core import audit
from enforcement.core.models import AuditRecord


async def _write(uow, n: int) -> None:
    for i in range(n):
        async with uow() as s:
            audit.record(s, action="test.changed", entity_type="thing", entity_id=i, after={"i": i})


async def test_chain_verifies(uow):
    await _write(uow, 5)
    async with uow() as s:
        result = await audit.verify(s)
        rows = (await s.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars().all()
    assert result.ok and result.checked == 5
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


async def test_changed_record_is_detected(uow):
    await _write(uow, 4)
    async with uow() as s:
        await s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(after={"i": 99}))
    async with uow() as s:
        result = await audit.verify(s)
    assert not result.ok
    assert "record 2 was changed" in result.problem


async def test_deleted_record_is_detected(uow):
    await _write(uow, 4)
    async with uow() as s:
        await s.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    async with uow() as s:
        result = await audit.verify(s)
    assert not result.ok
    assert "record 3 is missing" in result.problem


async def test_rolled_back_transaction_writes_no_audit(uow):
    try:
        async with uow() as s:
            audit.record(s, action="test.changed", entity_type="thing", entity_id=1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with uow() as s:
        assert (await s.execute(select(AuditRecord))).first() is None


async def test_actor_is_recorded(uow):
    async with uow() as s:
        audit.record(
            s,
            action="test.changed",
            entity_type="thing",
            entity_id=7,
            actor=audit.Actor("officer:amy#3", "officer", "甘0602"),
        )
    async with uow() as s:
        row = (await s.execute(select(AuditRecord))).scalar_one()
    assert (row.actor, row.actor_role, row.court_code) == ("officer:amy#3", "officer", "甘0602")


async def test_cut_tail_is_detected(uow):
    await _write(uow, 4)
    async with uow() as s:
        await s.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    async with uow() as s:
        result = await audit.verify(s)
    assert not result.ok
    assert "ends at 3" in result.problem


async def test_concurrent_writers_form_one_chain(uow):
    import asyncio

    async def write(i: int) -> None:
        async with uow() as s:
            audit.record(s, action="test.changed", entity_type="thing", entity_id=i)
            audit.record(s, action="test.changed", entity_type="thing", entity_id=-i)

    await asyncio.gather(*(write(i) for i in range(1, 21)))
    async with uow() as s:
        result = await audit.verify(s)
    assert result.ok
    assert result.checked == 40
