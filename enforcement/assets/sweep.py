"""The nightly sweep: re-query every respondent of every open case (and of 终本 cases due for
their 6-monthly re-query), resumably and at most once per subject per night.

One ``SweepRun`` per date (unique), whatever the number of workers. Its subjects are snapshot
into ``SweepSubject`` rows, then enqueued in batches with deterministic job ids
(``sweep:<date>:subject:<respondent id>``). Each subject is claimed by a conditional UPDATE
before any registry is asked, so a re-run, a second worker or an expired arq job id never
queries it twice; a claim left by a crashed worker is taken over only after ``LEASE``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import PendingQuery, QueryResult
from enforcement.assets import querying, registries, rules
from enforcement.assets.errors import SweepNotFound
from enforcement.assets.models import SweepRun, SweepSubject
from enforcement.assets.reconcile import apply_records
from enforcement.cases.models import Case, CaseRespondent, Party
from enforcement.cases.rules import add_months
from enforcement.core import audit, clock, db, jobs
from enforcement.core.identifiers import mask_id_number
from enforcement.core.schemas import decode_cursor, encode_cursor
from enforcement.core.settings import get_settings

BATCH_JOB = "assets.enqueue_sweep_batch"
SUBJECT_JOB = "assets.sweep_subject"
POLL_JOB = "assets.poll_sweep_subject"
FINISH_JOB = "assets.finish_sweep"
FINISH_CHECK = dt.timedelta(seconds=30)
FINISH_CHECKS = 2 * 60 * 24  # a day of checks every 30 s
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


def _job_id(run_date: dt.date, kind: str, key: int | str) -> str:
    return f"sweep:{run_date.isoformat()}:{kind}:{key}"


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
        after={"run_date": run_date, "trigger": trigger, "subjects": run.subjects_total},
    )
    if enqueue and run.subjects_total:
        jobs.enqueue(session, BATCH_JOB, run.id, 0, job_id=_job_id(run_date, "batch", 0))
    return run, True


async def _run_for(session: AsyncSession, run_date: dt.date) -> SweepRun | None:
    return (
        await session.execute(select(SweepRun).where(SweepRun.run_date == run_date))
    ).scalar_one_or_none()


async def enqueue_batch(sweep_id: int, after_id: int) -> int:
    """Job body: enqueue the next ``sweep_batch_size`` subjects, then the batch after them."""
    size = get_settings().sweep_batch_size
    async with db.unit_of_work() as session:
        run = await session.get(SweepRun, sweep_id)
        if run is None:
            return 0
        rows = (
            await session.execute(
                select(SweepSubject.id, SweepSubject.respondent_id)
                .where(
                    SweepSubject.sweep_id == sweep_id,
                    SweepSubject.id > after_id,
                    SweepSubject.status != "done",
                )
                .order_by(SweepSubject.id)
                .limit(size)
            )
        ).all()
        for row in rows:
            jobs.enqueue(
                session,
                SUBJECT_JOB,
                row.id,
                job_id=_job_id(run.run_date, "subject", row.respondent_id),
            )
        if len(rows) == size:
            last = rows[-1].id
            jobs.enqueue(
                session, BATCH_JOB, sweep_id, last, job_id=_job_id(run.run_date, "batch", last)
            )
        else:
            jobs.enqueue(
                session,
                FINISH_JOB,
                sweep_id,
                1,
                job_id=_job_id(run.run_date, "finish", 1),
                defer_by=FINISH_CHECK,
            )
    return len(rows)


@dataclass
class _Claim:
    row_id: int
    run_date: dt.date
    case_id: int
    party: Party


async def _claim(row_id: int) -> _Claim | None:
    """Take the subject for this worker, or None if it was done or is being done."""
    now = clock.now()
    async with db.unit_of_work() as session:
        result = await session.execute(
            update(SweepSubject)
            .where(
                SweepSubject.id == row_id,
                or_(
                    SweepSubject.status == "pending",
                    and_(SweepSubject.status == "running", SweepSubject.claimed_at < now - LEASE),
                ),
            )
            .values(status="running", claimed_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = (
            await session.execute(
                select(SweepSubject.case_id, SweepSubject.party_id, SweepRun.run_date)
                .join(SweepRun, SweepRun.id == SweepSubject.sweep_id)
                .where(SweepSubject.id == row_id)
            )
        ).one()
        party = await session.get(Party, row.party_id)
        assert party is not None
        audit.record(
            session,
            action="inquiry.sweep",
            entity_type="sweep_subject",
            entity_id=row_id,
            after={
                "purpose": f"nightly re-query {row.run_date} (case {row.case_id})",
                "operator": "system:sweep",
                "subject": mask_id_number(party.identifier),
            },
        )
        return _Claim(row_id, row.run_date, row.case_id, party)


async def process_subject(row_id: int, *, inline_polls: bool = False) -> bool:
    """Job body: ask every registry about one claimed subject; False if it was not ours."""
    claim = await _claim(row_id)
    if claim is None:
        return False
    connectors = dict(registries.get_connectors())
    outcomes = await querying.ask_all(connectors, querying.subject_of(claim.party))
    if inline_polls:
        outcomes = await _poll_inline(connectors, outcomes)
    await _store(claim, outcomes)
    return True


async def _poll_inline(
    connectors: dict[str, Any], outcomes: dict[str, querying.Outcome]
) -> dict[str, querying.Outcome]:
    """CLI and bench mode: wait for asynchronous registries here (a dedicated process)."""
    for name, outcome in outcomes.items():
        attempt = 0
        while isinstance(outcome, PendingQuery) and attempt < rules.MAX_POLLS:
            attempt += 1
            await asyncio.sleep(min(0.05 * 2**attempt, 5.0))
            outcome = (await querying.poll(connectors[name], outcome)) or outcome
        outcomes[name] = outcome
    return outcomes


async def poll_subject(row_id: int) -> None:
    """Job body: poll the asynchronous registries of a waiting subject."""
    async with db.unit_of_work() as session:
        row = await session.get(SweepSubject, row_id)
        if row is None or row.status != "waiting" or not row.pending:
            return
        party = await session.get(Party, row.party_id)
        run = await session.get(SweepRun, row.sweep_id)
        assert party is not None
        assert run is not None
        claim = _Claim(row_id, run.run_date, row.case_id, party)
        handles = dict(row.pending)
    subject = querying.subject_of(party)
    connectors = registries.get_connectors()
    outcomes: dict[str, querying.Outcome] = {}
    for name, handle in handles.items():
        pending = PendingQuery(registry=name, handle=handle, subject=subject)
        connector = connectors.get(name)
        if connector is None:
            outcomes[name] = querying.Failure("registry not enabled", False)
            continue
        outcomes[name] = (await querying.poll(connector, pending)) or pending
    await _store(claim, outcomes, polled=True)


async def _store(
    claim: _Claim, outcomes: dict[str, querying.Outcome], *, polled: bool = False
) -> None:
    """Write one subject's answers, its counts and errors, and its done-marker together."""
    async with db.unit_of_work() as session:
        row = await session.get(SweepSubject, claim.row_id, with_for_update=db.is_postgres(session))
        if row is None or row.status == "done":
            return
        now = clock.now()
        errors = dict(row.errors or {})
        pending: dict[str, str] = {}
        row.polls += 1 if polled else 0
        for name, outcome in outcomes.items():
            if isinstance(outcome, QueryResult):
                changes = await apply_records(
                    session,
                    case_id=claim.case_id,
                    party_id=claim.party.id,
                    registry=name,
                    records=list(outcome.assets),
                    now=now,
                )
                row.assets_new += changes.new
                row.assets_changed += changes.changed
                row.assets_gone += changes.gone
            elif isinstance(outcome, PendingQuery):
                if row.polls >= rules.MAX_POLLS:
                    errors[name] = f"no answer after {row.polls} polls"
                else:
                    pending[name] = outcome.handle
            else:
                errors[name] = outcome.message
        row.errors = errors or None
        row.pending = pending or None
        if pending:
            row.status = "waiting"
            jobs.enqueue(
                session,
                POLL_JOB,
                row.id,
                job_id=_job_id(claim.run_date, "poll", f"{row.respondent_id}:{row.polls}"),
                defer_by=dt.timedelta(seconds=rules.poll_delay_seconds(row.polls + 1)),
            )
        else:
            row.status, row.done_at = "done", now


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
    """Run (or resume) today's sweep in this process, ``concurrency`` subjects at a time."""
    async with db.unit_of_work() as session:
        run, _ = await start_sweep(session, trigger="cli", enqueue=False)
        run_id, total = run.id, run.subjects_total
        todo = list(
            (
                await session.execute(
                    select(SweepSubject.id)
                    .where(SweepSubject.sweep_id == run_id, SweepSubject.status != "done")
                    .order_by(SweepSubject.id)
                )
            ).scalars()
        )
    finished = total - len(todo)
    if on_progress:
        on_progress(finished, total)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for row_id in todo:
        queue.put_nowait(row_id)

    async def worker() -> None:
        nonlocal finished
        while not queue.empty():
            await process_subject(queue.get_nowait(), inline_polls=True)
            finished += 1
            if on_progress:
                on_progress(finished, total)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    await finish(run_id)
    return run_id


async def finish(sweep_id: int, check: int = 0) -> None:
    """Mark a run done once all its subjects are; as a job (``check`` ≥ 1) look again later."""
    async with db.unit_of_work() as session:
        run = await session.get(SweepRun, sweep_id)
        if run is None or run.finished_at is not None:
            return
        summary = await summarize(session, run)
        if summary.status != "done" and 1 <= check < FINISH_CHECKS:
            jobs.enqueue(
                session,
                FINISH_JOB,
                sweep_id,
                check + 1,
                job_id=_job_id(run.run_date, "finish", check + 1),
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
