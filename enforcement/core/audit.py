"""The audit log: every state change, who made it, before and after, in a hash chain.

Services call ``record(session, ...)``, which only buffers. The unit of work calls
``write_pending`` right before the commit: it takes a transaction-scoped advisory lock on
PostgreSQL (SQLite has one writer anyway), reads the chain's head and appends, so the chain
order is the commit order and the lock is held for the shortest time. ``verify`` recomputes
the chain and reports the first record that was changed, removed or inserted.
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
from enforcement.core.models import AuditRecord

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 7_301_001
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


async def write_pending(session: AsyncSession) -> None:
    """Append the buffered records to the chain, under the chain lock."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    head = (
        await session.execute(
            select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
        )
    ).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
    for item in pending:
        seq += 1
        digest = chain_hash(seq=seq, prev_hash=prev_hash, **item)
        session.add(AuditRecord(seq=seq, prev_hash=prev_hash, hash=digest, **item))
        prev_hash = digest
    await session.flush()


def chain_hash(*, seq: int, prev_hash: str, at: dt.datetime, **fields: Any) -> str:
    """SHA-256 over the canonical JSON of a record and its predecessor's hash."""
    payload = {"seq": seq, "prev_hash": prev_hash, "at": at.astimezone(dt.UTC).isoformat()}
    payload.update({k: fields[k] for k in sorted(fields)})
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


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
