"""Writing the sweep's answers: one transaction per group of answered subjects.

Shared by the batch pipeline (``sweep_batch``) and the bank's deferred poll job. A group's
asset changes, per-subject counts, errors and done-markers are written with bulk statements
(``reconcile.apply_batch`` plus one executemany ``UPDATE``), and the group gets at most one
audit record, only if it changed assets: every audit append updates the single
``audit_head`` row, so an audit record per subject serialised the whole sweep on that row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import PendingQuery, QueryResult, Subject
from enforcement.assets import querying, rules
from enforcement.assets.models import SweepSubject
from enforcement.assets.reconcile import Answer, Changes, apply_batch
from enforcement.core import audit, clock, db, jobs

POLL_JOB = "assets.poll_sweep_subject"
INTERRUPTED = "interrupted"
INTERRUPTED_MESSAGE = "claimed by a worker that stopped mid-query; not asked again tonight"


def job_id(run_date: dt.date, kind: str, key: int | str) -> str:
    """Deterministic job ids: arq refuses a second job with the same id that night."""
    return f"sweep:{run_date.isoformat()}:{kind}:{key}"


@dataclass(frozen=True)
class RunRef:
    """The little of a ``SweepRun`` the pipeline needs, detached from any session."""

    id: int
    run_date: dt.date


@dataclass(frozen=True)
class Claim:
    """A claimed subject: its row, case and party, the connector's view, the claim's stamp."""

    row_id: int
    case_id: int
    party_id: int
    respondent_id: int
    subject: Subject
    stamp: dt.datetime


Answered = tuple[Claim, dict[str, querying.Outcome]]

_SUBJECTS = cast(Table, SweepSubject.__table__)
_ROW_UPDATE = (
    update(_SUBJECTS)
    .where(_SUBJECTS.c.id == bindparam("row_id"))
    .values(
        status=bindparam("new_status"),
        done_at=bindparam("new_done_at"),
        pending=bindparam("new_pending"),
        polls=bindparam("new_polls"),
        errors=bindparam("new_errors"),
        assets_new=bindparam("new_assets_new"),
        assets_changed=bindparam("new_assets_changed"),
        assets_gone=bindparam("new_assets_gone"),
    )
)


async def store(run: RunRef, items: Sequence[Answered], *, expect: str) -> None:
    """Write a group's answers, counts, errors and done-markers in one transaction.

    Only rows still ``expect``-ed are written (``running`` ones with this claim's stamp), so
    a claim closed as interrupted meanwhile is not overwritten.
    """
    async with db.unit_of_work() as session:
        now = clock.now()
        mine = select(
            SweepSubject.id,
            SweepSubject.polls,
            SweepSubject.errors,
            SweepSubject.assets_new,
            SweepSubject.assets_changed,
            SweepSubject.assets_gone,
            SweepSubject.claimed_at,
        ).where(SweepSubject.id.in_([c.row_id for c, _ in items]), SweepSubject.status == expect)
        if db.is_postgres(session):
            mine = mine.with_for_update()
        rows = {row.id: row for row in await session.execute(mine)}
        if expect == "running":
            stamps = {c.row_id: c.stamp for c, _ in items}
            rows = {k: r for k, r in rows.items() if r.claimed_at == stamps[k]}
        owned = [(c, o) for c, o in items if c.row_id in rows]
        if not owned:
            return
        answers = [
            Answer(claim.row_id, claim.case_id, claim.party_id, name, outcome.assets)
            for claim, outcomes in owned
            for name, outcome in outcomes.items()
            if isinstance(outcome, QueryResult)
        ]
        changes = await apply_batch(session, answers, now=now)
        updates = []
        for claim, outcomes in owned:
            row = rows[claim.row_id]
            polls = row.polls + (1 if expect == "waiting" else 0)
            errors = dict(row.errors or {})
            pending: dict[str, str] = {}
            for name, outcome in outcomes.items():
                if isinstance(outcome, PendingQuery):
                    if polls >= rules.MAX_POLLS:
                        errors[name] = f"no answer after {polls} polls"
                    else:
                        pending[name] = outcome.handle
                elif isinstance(outcome, querying.Failure):
                    errors[name] = outcome.message
            found = changes.get(claim.row_id)
            updates.append(
                {
                    "row_id": claim.row_id,
                    "new_status": "waiting" if pending else "done",
                    "new_done_at": None if pending else now,
                    "new_pending": pending or None,
                    "new_polls": polls,
                    "new_errors": errors or None,
                    "new_assets_new": row.assets_new + (found.new if found else 0),
                    "new_assets_changed": row.assets_changed + (found.changed if found else 0),
                    "new_assets_gone": row.assets_gone + (found.gone if found else 0),
                }
            )
            if pending:
                jobs.enqueue(
                    session,
                    POLL_JOB,
                    claim.row_id,
                    job_id=job_id(run.run_date, "poll", f"{claim.respondent_id}:{polls}"),
                    defer_by=dt.timedelta(seconds=rules.poll_delay_seconds(polls + 1)),
                )
        await session.execute(_ROW_UPDATE, updates)
        _audit_changes(session, run, changes)


def _audit_changes(session: AsyncSession, run: RunRef, changes: Mapping[Any, Changes]) -> None:
    """One audit record per group that found new, changed or gone assets."""
    touched = {k: c for k, c in changes.items() if c.new or c.changed or c.gone}
    if not touched:
        return
    audit.record(
        session,
        action="sweep.assets_changed",
        entity_type="sweep",
        entity_id=run.id,
        after={
            "sweep_subjects": sorted(touched),
            "new": sum(c.new for c in touched.values()),
            "changed": sum(c.changed for c in touched.values()),
            "gone": sum(c.gone for c in touched.values()),
        },
    )


async def interrupt(
    session: AsyncSession,
    sweep_id: int,
    first_id: int | None = None,
    last_id: int | None = None,
    *,
    claimed_before: dt.datetime | None = None,
) -> int:
    """Close claims of dead workers as done-with-an-error: they are never asked again."""
    where = [SweepSubject.sweep_id == sweep_id, SweepSubject.status == "running"]
    if first_id is not None and last_id is not None:
        where.append(SweepSubject.id.between(first_id, last_id))
    if claimed_before is not None:
        where.append(SweepSubject.claimed_at < claimed_before)
    result = await session.execute(
        update(SweepSubject)
        .where(*where)
        .values(status="done", done_at=clock.now(), errors={INTERRUPTED: INTERRUPTED_MESSAGE})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
