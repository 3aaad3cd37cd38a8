"""The nightly sweep: re-query every respondent of every open case (and of 终本 cases due for
their 6-monthly re-query), resumably and at most once per subject per night.

One ``SweepRun`` per date (unique), whatever the number of workers. Its subjects are snapshot
into ``SweepSubject`` rows; a fan-out job cuts them into id ranges and enqueues one batch job
per range with a deterministic job id (``sweep:<date>:batch:<first id>``).

A batch job claims a chunk of its subjects with one ``UPDATE … RETURNING`` (the claim is the
point of no return: it is committed before any registry is asked; the row says when and for
which run, and the run's ``sweep.started`` audit record names purpose and operator), asks
every registry about the chunk concurrently, and stores the chunk's answers, counts and
errors in one transaction with bulk statements. A process keeps at most
``sweep_subjects_in_flight`` subjects claimed (``Window``), so a killed worker loses at most
that many answers.

A subject found ``running`` was claimed by someone who died mid-query: when arq re-runs the
batch job (``job_try`` > 1; arq runs one try of a job id at a time), or once the claim is
older than ``LEASE``, it is closed as ``interrupted`` rather than asked again. Never querying
a subject twice a night is the promise; the next night asks again.

Measured (2,000 subjects, PostgreSQL): an audit record per subject claim serialised every
worker on the audit chain's lock (0.55 s per claim at 20 in flight). Audit records are now
per run and per chunk that changed assets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Connector, PendingQuery, QueryResult
from enforcement.assets import querying, registries, rules
from enforcement.assets.errors import SweepNotFound
from enforcement.assets.models import SweepRun, SweepSubject
from enforcement.assets.reconcile import Answer, apply_batch
from enforcement.cases.models import Case, CaseRespondent, Party
from enforcement.cases.rules import add_months
from enforcement.core import audit, clock, db, jobs
from enforcement.core.schemas import decode_cursor, encode_cursor
from enforcement.core.settings import get_settings

FANOUT_JOB = "assets.enqueue_sweep_batch"
BATCH_JOB = "assets.sweep_batch"
POLL_JOB = "assets.poll_sweep_subject"
FINISH_JOB = "assets.finish_sweep"
FINISH_CHECK = dt.timedelta(seconds=30)
FINISH_CHECKS = 2 * 60 * 24  # a day of checks every 30 s
FANOUT_BATCHES = 50
"""Batch jobs one fan-out job enqueues before handing on to the next fan-out job."""
CHUNK = 25
"""Subjects claimed, asked and stored together: one claim and one store transaction each."""
WORKER_POLLS = (0.05, 0.1, 0.2, 0.4, 0.8)
"""A worker waits ~1.5 s for the bank in the batch, then leaves it to a deferred poll job."""
INLINE_POLLS = tuple(min(0.05 * 2**n, 5.0) for n in range(1, rules.MAX_POLLS + 1))
"""``enforcement sweep`` (no worker for poll jobs) waits for the bank itself."""
LEASE = dt.timedelta(minutes=10)
"""A claim older than this belongs to a dead worker (jobs time out long before)."""
INTERRUPTED = "interrupted"
INTERRUPTED_MESSAGE = "claimed by a worker that stopped mid-query; not asked again tonight"


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
        after={
            "run_date": run_date,
            "trigger": trigger,
            "subjects": run.subjects_total,
            "purpose": f"nightly re-query {run_date} of open cases' respondents",
            "operator": "system:sweep",
        },
    )
    if enqueue and run.subjects_total:
        jobs.enqueue(session, FANOUT_JOB, run.id, 0, job_id=_job_id(run_date, "fanout", 0))
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
                    job_id=_job_id(run.run_date, "batch", first),
                )
                todo += left
        if len(rows) == size * FANOUT_BATCHES:
            last = rows[-1].id
            jobs.enqueue(
                session, FANOUT_JOB, sweep_id, last, job_id=_job_id(run.run_date, "fanout", last)
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
    return todo


class Window:
    """Subjects claimed and not yet stored in this process; a chunk is claimed only once it
    fits, so a dead process takes at most ``size`` claims with it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.free = size
        self._changed = asyncio.Condition()

    async def take(self, wanted: int) -> int:
        """Wait until ``wanted`` (at most ``size``) slots are free and take them."""
        wanted = min(wanted, self.size)
        async with self._changed:
            await self._changed.wait_for(lambda: self.free >= wanted)
            self.free -= wanted
        return wanted

    async def give(self, count: int) -> None:
        """Return slots."""
        if count:
            async with self._changed:
                self.free += count
                self._changed.notify_all()


_windows: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Window] = weakref.WeakKeyDictionary()


def worker_window() -> Window:
    """This worker process's window (``settings.sweep_subjects_in_flight``), per event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _windows:
        _windows[loop] = Window(get_settings().sweep_subjects_in_flight)
    return _windows[loop]


@dataclass(frozen=True)
class _Claim:
    row_id: int
    case_id: int
    party_id: int
    respondent_id: int
    subject: Any  # connectors.base.Subject
    stamp: dt.datetime


@dataclass(frozen=True)
class _Run:
    id: int
    run_date: dt.date


async def process_batch(
    sweep_id: int,
    first_id: int,
    last_id: int,
    *,
    window: Window,
    retried: bool = False,
    poll_delays: Sequence[float] = WORKER_POLLS,
    on_stored: Callable[[int], None] | None = None,
) -> int:
    """Job body: sweep the pending subjects with ids in ``first_id..last_id``; returns how
    many were asked. ``retried``: an earlier try of this range died, close its claims."""
    async with db.unit_of_work() as session:
        found = await session.get(SweepRun, sweep_id)
        if found is None or found.finished_at is not None:
            return 0
        run = _Run(found.id, found.run_date)
        if retried:
            await _interrupt(session, sweep_id, first_id, last_id)
    connectors = dict(registries.get_connectors())
    asked = 0
    async with asyncio.TaskGroup() as group:
        while True:
            slots = await window.take(CHUNK)
            claims = await _claim(run, first_id, last_id, slots)
            await window.give(slots - len(claims))
            if not claims:
                break
            asked += len(claims)
            group.create_task(_sweep_chunk(run, claims, connectors, poll_delays, window, on_stored))
    return asked


async def _sweep_chunk(
    run: _Run,
    claims: list[_Claim],
    connectors: Mapping[str, Connector],
    poll_delays: Sequence[float],
    window: Window,
    on_stored: Callable[[int], None] | None,
) -> None:
    try:
        answers = await asyncio.gather(
            *(querying.ask_all(connectors, claim.subject, poll_delays) for claim in claims)
        )
        await _store(run, list(zip(claims, answers, strict=True)), expect="running")
    finally:
        await window.give(len(claims))
    if on_stored:
        on_stored(len(claims))


async def _claim(run: _Run, first_id: int, last_id: int, limit: int) -> list[_Claim]:
    """Take up to ``limit`` pending subjects of the range (the row records when and for which
    run, whose ``sweep.started`` audit record names purpose and operator)."""
    if limit <= 0:
        return []
    now = clock.now()
    async with db.unit_of_work() as session:
        pick = (
            select(SweepSubject.id)
            .where(
                SweepSubject.sweep_id == run.id,
                SweepSubject.id.between(first_id, last_id),
                SweepSubject.status == "pending",
            )
            .order_by(SweepSubject.id)
            .limit(limit)
        )
        if db.is_postgres(session):
            pick = pick.with_for_update(skip_locked=True)
        rows = (
            await session.execute(
                update(SweepSubject)
                .where(
                    SweepSubject.id.in_(pick.scalar_subquery()), SweepSubject.status == "pending"
                )
                .values(status="running", claimed_at=now)
                .returning(
                    SweepSubject.id,
                    SweepSubject.case_id,
                    SweepSubject.party_id,
                    SweepSubject.respondent_id,
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not rows:
            return []
        parties = {
            party.id: party
            for party in (
                await session.execute(select(Party).where(Party.id.in_({r.party_id for r in rows})))
            ).scalars()
        }
        return [
            _Claim(
                r.id,
                r.case_id,
                r.party_id,
                r.respondent_id,
                querying.subject_of(parties[r.party_id]),
                now,
            )
            for r in rows
        ]


async def _interrupt(
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
        subject = querying.subject_of(party)
        claim = _Claim(row.id, row.case_id, row.party_id, row.respondent_id, subject, clock.now())
        handles = dict(row.pending)
        sweep_run = _Run(run.id, run.run_date)
    connectors = registries.get_connectors()
    outcomes: dict[str, querying.Outcome] = {}
    for name, handle in handles.items():
        pending = PendingQuery(registry=name, handle=handle, subject=subject)
        connector = connectors.get(name)
        if connector is None:
            outcomes[name] = querying.Failure("registry not enabled", False)
            continue
        outcomes[name] = (await querying.poll(connector, pending)) or pending
    await _store(sweep_run, [(claim, outcomes)], expect="waiting")


_ROW_UPDATE = (
    update(SweepSubject.__table__)
    .where(SweepSubject.__table__.c.id == bindparam("row_id"))
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


async def _store(
    run: _Run, items: list[tuple[_Claim, dict[str, querying.Outcome]]], *, expect: str
) -> None:
    """Write a chunk's answers, counts, errors and done-markers in one transaction.

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
                    job_id=_job_id(run.run_date, "poll", f"{claim.respondent_id}:{polls}"),
                    defer_by=dt.timedelta(seconds=rules.poll_delay_seconds(polls + 1)),
                )
        await session.execute(_ROW_UPDATE, updates)
        _audit_changes(session, run, changes)


def _audit_changes(session: AsyncSession, run: _Run, changes: Mapping[Any, Any]) -> None:
    """One audit record per chunk that found new, changed or gone assets."""
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
        await _interrupt(session, run_id, claimed_before=clock.now() - LEASE)
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
            window=Window(max(1, concurrency)),
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
        await _interrupt(session, sweep_id, claimed_before=clock.now() - LEASE)
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
