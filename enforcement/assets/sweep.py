"""The nightly sweep's lifecycle: re-query every respondent of every open case (and of 终本
cases due for their 6-monthly re-query), resumably and at most once per subject per night.

One ``SweepRun`` per date (unique), whatever the number of workers. Its subjects are snapshot
into ``SweepSubject`` rows; a fan-out job cuts them into id ranges and enqueues one batch job
per range with a deterministic job id (``sweep:<date>:batch:<first id>``). The batch job is
``sweep_batch.process_batch`` (claim, ask, store pipeline); answers are written by
``sweep_store.store``. A finish job marks the run done once every subject is; counts are
computed from the subjects, so no row is contended by the workers.

Never querying a subject twice a night is the promise: a claim is committed before anybody
is asked, and a claim left by a dead worker is closed as ``interrupted``; the next night asks
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.assets import rules
from enforcement.assets.errors import SweepNotFound
from enforcement.assets.models import SweepRun, SweepSubject
from enforcement.assets.sweep_batch import (
    CHUNK,
    INLINE_POLLS,
    WORKER_POLLS,
    Window,
    poll_subject,
    process_batch,
    window_size,
    worker_window,
)
from enforcement.assets.sweep_store import (
    INTERRUPTED,
    INTERRUPTED_MESSAGE,
    POLL_JOB,
    interrupt,
    job_id,
)
from enforcement.cases.models import Case, CaseRespondent
from enforcement.cases.rules import add_months
from enforcement.core import audit, clock, db, jobs
from enforcement.core.schemas import decode_cursor, encode_cursor
from enforcement.core.settings import get_settings

__all__ = [
    "BATCH_JOB", "CHUNK", "FANOUT_JOB", "FINISH_JOB", "INLINE_POLLS", "INTERRUPTED",
    "INTERRUPTED_MESSAGE", "LEASE", "POLL_JOB", "WORKER_POLLS", "SweepSummary", "Window",
    "enqueue_batch", "finish", "get_sweep", "list_sweeps", "poll_subject", "process_batch",
    "run_now", "start_sweep", "summarize", "window_size", "worker_window",
]  # fmt: skip

FANOUT_JOB = "assets.enqueue_sweep_batch"
BATCH_JOB = "assets.sweep_batch"
FINISH_JOB = "assets.finish_sweep"
FINISH_CHECK = dt.timedelta(seconds=30)
FINISH_CHECKS = 2 * 60 * 24  # a day of checks every 30 s
FANOUT_BATCHES = 50
"""Batch jobs one fan-out job enqueues before handing on to the next fan-out job."""
LEASE = dt.timedelta(minutes=10)
"""A claim older than this belongs to a dead worker (jobs time out long before)."""


def _eligible(run_id: int, today: dt.date) -> Any:
    """Respondents to sweep: open cases, and 终本 cases due for their 6-monthly re-query."""
    # closed (or last swept) on or before the same date six months ago
    due_before = clock.start_of_local_day(
        add_months(today, -rules.TERMINATED_REQUERY_MONTHS) + dt.timedelta(days=1)
    )
    too_old = clock.start_of_local_day(add_months(today, -12 * rules.TERMINATED_REQUERY_YEARS))
    recently = (
        select(SweepSubject.id)
        .where(SweepSubject.respondent_id == CaseRespondent.id, SweepSubject.done_at >= due_before)
        .exists()
    )
    return (
        select(
            literal(run_id),
            CaseRespondent.id,
            CaseRespondent.case_id,
            CaseRespondent.party_id,
            literal("pending"),
            literal(0),
            literal(0),
            literal(0),
            literal(0),
        )
        .join(Case, Case.id == CaseRespondent.case_id)
        .where(
            or_(
                Case.status == "open",
                and_(
                    Case.status == "terminated_this_round",
                    Case.closed_at < due_before,
                    Case.closed_at > too_old,
                    ~recently,
                ),
            )
        )
    )


async def start_sweep(
    session: AsyncSession, *, trigger: str, run_date: dt.date | None = None, enqueue: bool = True
) -> tuple[SweepRun, bool]:
    """The run for the date (today by default), created with its subjects if new."""
    run_date = run_date or clock.today()
    existing = await _run_for(session, run_date)
    if existing is not None:
        return existing, False
    run = SweepRun(run_date=run_date, trigger=trigger, status="running", started_at=clock.now())
    session.add(run)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # another worker created tonight's run first
        found = await _run_for(session, run_date)
        assert found is not None
        return found, False
    columns = [
        "sweep_id", "respondent_id", "case_id", "party_id", "status",
        "polls", "assets_new", "assets_changed", "assets_gone",
    ]  # fmt: skip
    await session.execute(insert(SweepSubject).from_select(columns, _eligible(run.id, run_date)))
    run.subjects_total = int(
        await session.scalar(
            select(func.count()).select_from(SweepSubject).where(SweepSubject.sweep_id == run.id)
        )
        or 0
    )
    if run.subjects_total == 0:
        run.status, run.finished_at = "done", clock.now()
    audit.record(
        session,
        action="sweep.started",
        entity_type="sweep",
        entity_id=run.id,
        after={
            "run_date": run_date,
            "trigger": trigger,
            "subjects": run.subjects_total,
            "purpose": f"nightly re-query {run_date} of open cases' respondents",
            "operator": "system:sweep",
        },
    )
    if enqueue and run.subjects_total:
        jobs.enqueue(session, FANOUT_JOB, run.id, 0, job_id=job_id(run_date, "fanout", 0))
    return run, True


async def _run_for(session: AsyncSession, run_date: dt.date) -> SweepRun | None:
    return (
        await session.execute(select(SweepRun).where(SweepRun.run_date == run_date))
    ).scalar_one_or_none()


async def enqueue_batch(sweep_id: int, after_id: int) -> int:
    """Job body: enqueue batch jobs for the next ranges of subjects, then the next fan-out.

    Ranges are cut over all the run's subjects (done or not), so a re-run cuts the same
    ranges and arq refuses the job ids it already holds. Returns the subjects left to do.
    """
    size = get_settings().sweep_batch_size
    async with db.unit_of_work() as session:
        run = await session.get(SweepRun, sweep_id)
        if run is None:
            return 0
        rows = (
            await session.execute(
                select(SweepSubject.id, SweepSubject.status)
                .where(SweepSubject.sweep_id == sweep_id, SweepSubject.id > after_id)
                .order_by(SweepSubject.id)
                .limit(size * FANOUT_BATCHES)
            )
        ).all()
        todo = 0
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            left = sum(1 for row in batch if row.status != "done")
            if left:
                first, last = batch[0].id, batch[-1].id
                jobs.enqueue(
                    session,
                    BATCH_JOB,
                    sweep_id,
                    first,
                    last,
                    job_id=job_id(run.run_date, "batch", first),
                )
                todo += left
        if len(rows) == size * FANOUT_BATCHES:
            last = rows[-1].id
            jobs.enqueue(
                session, FANOUT_JOB, sweep_id, last, job_id=job_id(run.run_date, "fanout", last)
            )
        else:
            jobs.enqueue(
                session,
                FINISH_JOB,
                sweep_id,
                1,
                job_id=job_id(run.run_date, "finish", 1),
                defer_by=FINISH_CHECK,
            )
    return todo


@dataclass
class SweepSummary:
    """A run as the API shows it: counts summed over its subjects, errors per registry."""

    run: SweepRun
    subjects_done: int = 0
    assets_new: int = 0
    assets_changed: int = 0
    assets_gone: int = 0
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``done`` once every subject is; ``running`` before."""
        return "done" if self.subjects_done >= self.run.subjects_total else "running"


async def summarize(session: AsyncSession, run: SweepRun) -> SweepSummary:
    """Counts and per-registry errors of a run (computed, so no row is ever contended)."""
    done = SweepSubject.status == "done"
    totals = (
        await session.execute(
            select(
                func.count().filter(done),
                func.coalesce(func.sum(SweepSubject.assets_new), 0),
                func.coalesce(func.sum(SweepSubject.assets_changed), 0),
                func.coalesce(func.sum(SweepSubject.assets_gone), 0),
            ).where(SweepSubject.sweep_id == run.id)
        )
    ).one()
    summary = SweepSummary(run, int(totals[0]), int(totals[1]), int(totals[2]), int(totals[3]))
    failures = await session.execute(
        select(SweepSubject.errors).where(
            SweepSubject.sweep_id == run.id, SweepSubject.errors.is_not(None)
        )
    )
    for (errors,) in failures:
        for registry, message in (errors or {}).items():
            entry = summary.errors.setdefault(registry, {"count": 0, "last_error": None})
            entry["count"] += 1
            entry["last_error"] = message
    return summary


async def get_sweep(session: AsyncSession, sweep_id: int) -> SweepSummary:
    """One run with its counts; 404 ``sweep_not_found``."""
    run = await session.get(SweepRun, sweep_id, populate_existing=True)
    if run is None:
        raise SweepNotFound(details={"sweep_id": sweep_id})
    return await summarize(session, run)


async def list_sweeps(
    session: AsyncSession, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[SweepSummary], str | None]:
    """Runs, newest first."""
    query = select(SweepRun).order_by(SweepRun.id.desc()).limit(limit + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(SweepRun.id < int(after.get("id", 0)))
    runs = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": runs[limit - 1].id}) if len(runs) > limit else None
    return [await summarize(session, run) for run in runs[:limit]], next_cursor


async def run_now(
    *, concurrency: int = 50, on_progress: Callable[[int, int], None] | None = None
) -> int:
    """Run (or resume) today's sweep in this process, ``concurrency`` subjects at a time.

    The same batch code as the workers, over the whole run, waiting for the bank inline.
    Claims left by a dead process more than ``LEASE`` ago are closed as interrupted.
    """
    async with db.unit_of_work() as session:
        run, _ = await start_sweep(session, trigger="cli", enqueue=False)
        run_id, total = run.id, run.subjects_total
        await interrupt(session, run_id, claimed_before=clock.now() - LEASE)
        bounds = (
            await session.execute(
                select(
                    func.min(SweepSubject.id),
                    func.max(SweepSubject.id),
                    func.count().filter(SweepSubject.status == "done"),
                ).where(SweepSubject.sweep_id == run_id)
            )
        ).one()
    finished = int(bounds[2] or 0)
    if on_progress:
        on_progress(finished, total)

    def stored(count: int) -> None:
        nonlocal finished
        finished += count
        if on_progress:
            on_progress(finished, total)

    if bounds[0] is not None:
        await process_batch(
            run_id,
            bounds[0],
            bounds[1],
            window=Window(window_size(max(1, concurrency)), max(1, concurrency)),
            poll_delays=INLINE_POLLS,
            on_stored=stored,
        )
    await finish(run_id)
    return run_id


async def finish(sweep_id: int, check: int = 0) -> None:
    """Mark a run done once all its subjects are; as a job (``check`` ≥ 1) look again later.

    Claims older than ``LEASE`` are closed as interrupted first, so a run whose worker died
    for good still finishes.
    """
    async with db.unit_of_work() as session:
        run = await session.get(SweepRun, sweep_id)
        if run is None or run.finished_at is not None:
            return
        await interrupt(session, sweep_id, claimed_before=clock.now() - LEASE)
        summary = await summarize(session, run)
        if summary.status != "done" and 1 <= check < FINISH_CHECKS:
            jobs.enqueue(
                session,
                FINISH_JOB,
                sweep_id,
                check + 1,
                job_id=job_id(run.run_date, "finish", check + 1),
                defer_by=FINISH_CHECK,
            )
        if summary.status == "done":
            run.status, run.finished_at = "done", clock.now()
            audit.record(
                session,
                action="sweep.finished",
                entity_type="sweep",
                entity_id=run.id,
                after={
                    "subjects": summary.subjects_done,
                    "new": summary.assets_new,
                    "changed": summary.assets_changed,
                    "gone": summary.assets_gone,
                    "errors": {k: v["count"] for k, v in summary.errors.items()},
                },
            )
