"""The audit log: every state change, who made it, before and after, in a hash chain.

Services call ``record(session, ...)``, which only buffers. The unit of work calls
``write_pending`` right before the commit. Each record is appended by advancing the single
``audit_head`` row (next seq, new hash, the old hash kept as ``prev_hash``) and inserting the
record from what that UPDATE returned: one statement per record on PostgreSQL, where the row
lock on the head orders the chain by commit and is held for the shortest possible time (hot
paths such as bidding pay one round trip, not a lock + read + insert).

``hash = sha256(prev_hash | seq | canonical JSON of the record)``; ``verify`` recomputes the
chain and reports the first record that was changed, removed or inserted, and a head that does
not match the last record (the tail was cut).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import clock
from enforcement.core.models import AuditHead, AuditRecord

GENESIS = "0" * 64
_PENDING = "audit_pending"


@dataclass(frozen=True)
class Actor:
    """Who acts: a token's name and role, or a system job."""

    name: str
    role: str
    court_code: str | None = None


SYSTEM = Actor("system", "system")
current_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("actor", default=SYSTEM)


def record(
    session: AsyncSession,
    *,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> None:
    """Buffer one audit record; it is written with the transaction's commit."""
    who = actor or current_actor.get()
    session.info.setdefault(_PENDING, []).append(
        {
            "at": clock.now(),
            "actor": who.name,
            "actor_role": who.role,
            "court_code": who.court_code,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": _jsonable(before),
            "after": _jsonable(after),
        }
    )


def discard_pending(session: AsyncSession) -> None:
    """Forget the buffered records (the transaction rolled back)."""
    session.info.pop(_PENDING, None)


_APPEND_SQL = text(
    """
    WITH head AS (
        UPDATE audit_head
        SET seq = seq + 1,
            prev_hash = hash,
            hash = encode(
                sha256(convert_to(
                    hash || '|' || (seq + 1)::text || '|' || CAST(:payload AS text), 'UTF8'
                )),
                'hex'
            )
        WHERE id = 1
        RETURNING seq, prev_hash, hash
    )
    INSERT INTO audit_log (seq, at, actor, actor_role, court_code, action, entity_type,
                           entity_id, before, after, prev_hash, hash)
    SELECT head.seq, CAST(:at AS timestamptz), CAST(:actor AS text), CAST(:actor_role AS text),
           CAST(:court_code AS text), CAST(:action AS text), CAST(:entity_type AS text),
           CAST(:entity_id AS text), CAST(:before AS json), CAST(:after AS json),
           head.prev_hash, head.hash
    FROM head
    """
)


async def write_pending(session: AsyncSession) -> None:
    """Append the buffered records to the chain (see the module docstring)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        for item in pending:
            await session.execute(
                _APPEND_SQL,
                {
                    **item,
                    "payload": canonical_payload(**item),
                    "before": _json_or_none(item["before"]),
                    "after": _json_or_none(item["after"]),
                },
            )
        return
    head = await session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        raise RuntimeError("audit_head row missing: run the migrations")
    for item in pending:
        seq = head.seq + 1
        digest = chain_hash(seq=seq, prev_hash=head.hash, **item)
        session.add(AuditRecord(seq=seq, prev_hash=head.hash, hash=digest, **item))
        head.seq, head.prev_hash, head.hash = seq, head.hash, digest
    await session.flush()


def canonical_payload(*, at: dt.datetime, **fields: Any) -> str:
    """The record's fields as canonical JSON (sorted keys, no spaces, UTC time)."""
    payload = {"at": at.astimezone(dt.UTC).isoformat(), **fields}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(*, seq: int, prev_hash: str, **fields: Any) -> str:
    """SHA-256 over the predecessor's hash, the sequence number and the record."""
    blob = f"{prev_hash}|{seq}|{canonical_payload(**fields)}"
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _json_or_none(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a chain check: ``ok``, how many records, and the first problem found."""

    ok: bool
    checked: int
    problem: str | None = None


async def verify(session: AsyncSession, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; a changed field, a missing or an extra record breaks it."""
    prev_hash, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditRecord)
                    .where(AuditRecord.seq > last_seq)
                    .order_by(AuditRecord.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            head = await session.get(AuditHead, 1)
            if head is not None and (head.seq, head.hash) != (last_seq, prev_hash):
                return VerifyResult(
                    False, checked, f"the chain ends at {last_seq} but its head says {head.seq}"
                )
            return VerifyResult(True, checked)
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(False, checked, f"record {expected_seq} is missing")
            if row.prev_hash != prev_hash:
                return VerifyResult(False, checked, f"record {row.seq} breaks the chain")
            digest = chain_hash(
                seq=row.seq,
                prev_hash=row.prev_hash,
                at=row.at,
                actor=row.actor,
                actor_role=row.actor_role,
                court_code=row.court_code,
                action=row.action,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                before=row.before,
                after=row.after,
            )
            if digest != row.hash:
                return VerifyResult(False, checked, f"record {row.seq} was changed")
            prev_hash, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
            checked += 1
            session.expunge(row)


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
