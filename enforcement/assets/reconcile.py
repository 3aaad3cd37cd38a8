"""Turn a registry's answer into asset rows: insert the new, update the changed, mark the gone.

Assets are deduplicated by (case, registry, registry_ref). A re-query that no longer reports
an asset marks it ``gone``; one that reports it again revives it. Sold assets are history and
are left alone. Core statements, not the ORM: the nightly sweep runs this thousands of times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import AssetRecord
from enforcement.assets.models import Asset


@dataclass
class Changes:
    """What one registry's answer changed for one respondent."""

    found: int = 0
    new: int = 0
    changed: int = 0
    gone: int = 0


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
    existing = {
        row.registry_ref: row
        for row in await session.execute(
            select(
                Asset.id, Asset.registry_ref, Asset.value, Asset.description, Asset.status
            ).where(
                Asset.case_id == case_id,
                Asset.party_id == party_id,
                Asset.registry_name == registry,
            )
        )
    }
    reported = {record.registry_ref: record for record in records}
    changes = Changes(found=len(reported))
    fresh, seen = [], []
    for ref, record in reported.items():
        row = existing.get(ref)
        if row is None:
            fresh.append(_new_row(record, case_id, party_id, now))
        elif row.status == "sold":
            continue
        elif (
            row.status == "gone"
            or row.value != record.value
            or row.description != record.description
        ):
            changes.changed += 1
            await session.execute(
                update(Asset)
                .where(Asset.id == row.id)
                .values(
                    value=record.value,
                    description=record.description,
                    raw=record.raw,
                    holder=record.holder,
                    status="present",
                    gone_at=None,
                    last_seen_at=now,
                )
            )
        else:
            seen.append(row.id)
    if fresh:
        changes.new = len(fresh)
        await session.execute(insert(Asset), fresh)
    if seen:
        await session.execute(update(Asset).where(Asset.id.in_(seen)).values(last_seen_at=now))
    vanished = [
        row.id for ref, row in existing.items() if ref not in reported and row.status == "present"
    ]
    if vanished:
        changes.gone = len(vanished)
        await session.execute(
            update(Asset).where(Asset.id.in_(vanished)).values(status="gone", gone_at=now)
        )
    return changes


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
