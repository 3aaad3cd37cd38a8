"""Turn registries' answers into asset rows: insert the new, update the changed, mark the gone.

Assets are deduplicated by (case, registry, registry_ref). A re-query that no longer reports
an asset marks it ``gone``; one that reports it again revives it. Sold assets are history and
are left alone. ``apply_batch`` reconciles many (respondent, registry) answers with one read
and a handful of bulk Core statements, whatever the batch size: the nightly sweep runs it
for every subject of every open case, and per-subject statements made it database-bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import AssetRecord
from enforcement.assets.models import Asset


@dataclass
class Changes:
    """What one registry's answer changed for one respondent (or summed over several)."""

    found: int = 0
    new: int = 0
    changed: int = 0
    gone: int = 0


@dataclass(frozen=True)
class Answer:
    """One registry's full list of a respondent's assets in one case; ``key`` groups counts."""

    key: Hashable
    case_id: int
    party_id: int
    registry: str
    records: Sequence[AssetRecord]


async def apply_records(
    session: AsyncSession,
    *,
    case_id: int,
    party_id: int,
    registry: str,
    records: list[AssetRecord],
    now: dt.datetime,
) -> Changes:
    """Reconcile the respondent's assets in ``registry`` with what it just reported."""
    answer = Answer(None, case_id, party_id, registry, records)
    return (await apply_batch(session, [answer], now=now)).get(None, Changes())


async def apply_batch(
    session: AsyncSession, answers: Sequence[Answer], *, now: dt.datetime
) -> dict[Hashable, Changes]:
    """Reconcile every answer; returns the changes summed per ``Answer.key``."""
    if not answers:
        return {}
    existing: dict[tuple[int, int, str], dict[str, Row[Any]]] = {}
    rows = await session.execute(
        select(
            Asset.id,
            Asset.case_id,
            Asset.party_id,
            Asset.registry_name,
            Asset.registry_ref,
            Asset.value,
            Asset.description,
            Asset.status,
        ).where(
            Asset.party_id.in_({a.party_id for a in answers}),
            Asset.case_id.in_({a.case_id for a in answers}),
        )
    )
    for found in rows:
        existing.setdefault((found.case_id, found.party_id, found.registry_name), {})[
            found.registry_ref
        ] = found  # type: ignore[assignment]  # typed row → Row[Any]
    totals: dict[Hashable, Changes] = {}
    fresh: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    seen: list[int] = []
    vanished: list[int] = []
    for answer in answers:
        known: dict[str, Row[Any]] = existing.get(
            (answer.case_id, answer.party_id, answer.registry), {}
        )
        reported = {record.registry_ref: record for record in answer.records}
        changes = totals.setdefault(answer.key, Changes())
        changes.found += len(reported)
        for ref, record in reported.items():
            row = known.get(ref)
            if row is None:
                changes.new += 1
                fresh.append(_new_row(record, answer.case_id, answer.party_id, now))
            elif row.status == "sold":
                continue
            elif (
                row.status == "gone"
                or row.value != record.value
                or row.description != record.description
            ):
                changes.changed += 1
                changed.append(_changed_row(row.id, record))
            else:
                seen.append(row.id)
        for ref, row in known.items():
            if ref not in reported and row.status == "present":
                changes.gone += 1
                vanished.append(row.id)
    await _write(session, fresh, changed, seen, vanished, now)
    return totals


async def _write(
    session: AsyncSession,
    fresh: list[dict[str, object]],
    changed: list[dict[str, object]],
    seen: list[int],
    vanished: list[int],
    now: dt.datetime,
) -> None:
    """At most four statements (executemany for the inserts and the changed rows)."""
    if fresh:
        await session.execute(insert(Asset), fresh)
    if changed:
        table = cast(Table, Asset.__table__)
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("asset_id"))
            .values(
                value=bindparam("new_value"),
                description=bindparam("new_description"),
                raw=bindparam("new_raw"),
                holder=bindparam("new_holder"),
                status="present",
                gone_at=None,
                last_seen_at=now,
            ),
            changed,
        )
    if seen:
        await session.execute(update(Asset).where(Asset.id.in_(seen)).values(last_seen_at=now))
    if vanished:
        await session.execute(
            update(Asset).where(Asset.id.in_(vanished)).values(status="gone", gone_at=now)
        )


def _changed_row(asset_id: int, record: AssetRecord) -> dict[str, object]:
    return {
        "asset_id": asset_id,
        "new_value": record.value,
        "new_description": record.description,
        "new_raw": record.raw,
        "new_holder": record.holder,
    }


def _new_row(
    record: AssetRecord, case_id: int, party_id: int, now: dt.datetime
) -> dict[str, object]:
    return {
        "case_id": case_id,
        "party_id": party_id,
        "registry_name": record.registry,
        "kind": record.kind,
        "registry_ref": record.registry_ref,
        "description": record.description,
        "value": record.value,
        "currency": record.currency,
        "holder": record.holder,
        "raw": record.raw,
        "status": "present",
        "first_seen_at": now,
        "last_seen_at": now,
        "gone_at": None,
    }
