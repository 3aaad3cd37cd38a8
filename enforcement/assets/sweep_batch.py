"""The sweep's batch pipeline: claim subjects, ask every registry, store the answers.

``process_batch`` runs three things at once over an id range of a run's subjects:

* a claimer takes pending subjects ``CHUNK`` at a time with one ``UPDATE … RETURNING`` (``FOR
  UPDATE SKIP LOCKED`` on PostgreSQL). The claim is the point of no return: it is committed
  before any registry is asked, so a subject is never asked twice that night;
* one task per claimed subject asks all registries (``querying.ask_all``), at most
  ``Window.in_flight`` subjects at a time per process;
* a writer stores answered subjects in groups (up to ``CHUNK``, or what arrived within
  ``GATHER_SECONDS``) with ``sweep_store.store``, one transaction per group.

Claiming the next chunk while the previous one is being asked, and storing each subject as
soon as it (and a few neighbours) answered, replaced "claim 25, ask 25, wait for the slowest
of the 25, store 25, claim again": that waited on every chunk's straggler (the bank's inline
polls) and kept the registries idle during each claim and store.

A process keeps at most ``Window.size`` subjects claimed and not stored (``window_size``:
the subjects being asked plus one chunk claimed ahead and one being stored), so a killed
worker takes at most that many claims with it. A subject found ``running`` was claimed by
someone who died mid-query: when arq re-runs the batch job (``job_try`` > 1; arq runs one
try of a job id at a time), or once the claim is older than ``LEASE``, it is closed as
``interrupted`` rather than asked again.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import select, update

from connectors.base import Connector, PendingQuery
from enforcement.assets import querying, registries, rules
from enforcement.assets.models import SweepRun, SweepSubject
from enforcement.assets.sweep_store import Answered, Claim, RunRef, interrupt, store
from enforcement.cases.models import Party
from enforcement.core import clock, db
from enforcement.core.settings import get_settings

CHUNK = 25
"""Subjects claimed by one statement, and the most stored by one transaction."""
GATHER_SECONDS = 0.02
"""How long the writer waits for more answers before storing a short group."""
WORKER_POLLS = (0.05, 0.1, 0.2, 0.4, 0.8)
"""A worker waits ~1.5 s for the bank in the batch, then leaves it to a deferred poll job."""
INLINE_POLLS = tuple(min(0.05 * 2**n, 5.0) for n in range(1, rules.MAX_POLLS + 1))
"""``enforcement sweep`` (no worker for poll jobs) waits for the bank itself."""


def window_size(in_flight: int) -> int:
    """Claims a process may hold for ``in_flight`` subjects asked at once: those, one chunk
    claimed ahead (the registries never wait for a claim) and one being stored."""
    return in_flight + 2 * CHUNK


class Window:
    """Subjects claimed and not yet stored in this process (``size``), and the subjects being
    asked at once (``in_flight``, default ``size``)."""

    def __init__(self, size: int, in_flight: int | None = None) -> None:
        self.size = size
        self.free = size
        self.in_flight = min(in_flight or size, size)
        self.asking = asyncio.Semaphore(self.in_flight)
        self._freed = asyncio.Event()

    async def take(self, wanted: int) -> int:
        """Wait until ``wanted`` (at most ``size``) slots are free and take them."""
        wanted = min(wanted, self.size)
        while self.free < wanted:
            self._freed.clear()
            await self._freed.wait()
        self.free -= wanted
        return wanted

    def give(self, count: int) -> None:
        """Return slots (synchronous, so it also runs while a job is being cancelled)."""
        if count:
            self.free += count
            self._freed.set()


_windows: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Window] = weakref.WeakKeyDictionary()


def worker_window() -> Window:
    """This worker process's window (``settings.sweep_subjects_in_flight``), per event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _windows:
        in_flight = get_settings().sweep_subjects_in_flight
        _windows[loop] = Window(window_size(in_flight), in_flight)
    return _windows[loop]


class _Held:
    """Window slots this batch holds, so they go back however the batch ends."""

    def __init__(self, window: Window) -> None:
        self.window, self.count = window, 0

    def give(self, count: int) -> None:
        self.count -= count
        self.window.give(count)


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
        run = RunRef(found.id, found.run_date)
        if retried:
            await interrupt(session, sweep_id, first_id, last_id)
    connectors = dict(registries.get_connectors())
    answered: asyncio.Queue[Answered | None] = asyncio.Queue()
    held = _Held(window)
    asked = 0
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_write(run, answered, held, on_stored))
            askers: list[asyncio.Task[None]] = []
            while True:
                slots = await window.take(CHUNK)
                held.count += slots
                claims = await _claim(run, first_id, last_id, slots)
                held.give(slots - len(claims))
                if not claims:
                    break
                asked += len(claims)
                askers.extend(
                    group.create_task(_ask(claim, connectors, poll_delays, window, answered))
                    for claim in claims
                )
            if askers:
                await asyncio.wait(askers)
            answered.put_nowait(None)
    finally:
        held.give(held.count)  # claims never stored: closed as interrupted by the job's retry
    return asked


async def _ask(
    claim: Claim,
    connectors: Mapping[str, Connector],
    poll_delays: Sequence[float],
    window: Window,
    answered: asyncio.Queue[Answered | None],
) -> None:
    async with window.asking:
        outcomes = await querying.ask_all(connectors, claim.subject, poll_delays)
    answered.put_nowait((claim, outcomes))


async def _write(
    run: RunRef,
    answered: asyncio.Queue[Answered | None],
    held: _Held,
    on_stored: Callable[[int], None] | None,
) -> None:
    """Store answers in groups until the end marker (``None``) arrives."""
    loop = asyncio.get_running_loop()
    finished = False
    while not finished:
        first = await answered.get()
        if first is None:
            return
        group = [first]
        deadline = loop.time() + GATHER_SECONDS
        while len(group) < CHUNK:
            try:
                item = answered.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(answered.get(), remaining)
                except TimeoutError:
                    break
            if item is None:
                finished = True
                break
            group.append(item)
        await store(run, group, expect="running")
        held.give(len(group))
        if on_stored:
            on_stored(len(group))


async def _claim(run: RunRef, first_id: int, last_id: int, limit: int) -> list[Claim]:
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
            Claim(
                r.id,
                r.case_id,
                r.party_id,
                r.respondent_id,
                querying.subject_of(parties[r.party_id]),
                now,
            )
            for r in rows
        ]


async def poll_subject(row_id: int) -> None:
    """Job body: poll the asynchronous registries of a waiting subject."""
    async with db.unit_of_work() as session:
        row = await session.get(SweepSubject, row_id)
        if row is None or row.status != "waiting" or not row.pending:
            return
        party = await session.get(Party, row.party_id)
        found = await session.get(SweepRun, row.sweep_id)
        assert party is not None
        assert found is not None
        subject = querying.subject_of(party)
        claim = Claim(row.id, row.case_id, row.party_id, row.respondent_id, subject, clock.now())
        handles = dict(row.pending)
        run = RunRef(found.id, found.run_date)
    connectors = registries.get_connectors()
    outcomes: dict[str, querying.Outcome] = {}
    for name, handle in handles.items():
        pending = PendingQuery(registry=name, handle=handle, subject=subject)
        connector = connectors.get(name)
        if connector is None:
            outcomes[name] = querying.Failure("registry not enabled", False)
            continue
        outcomes[name] = (await querying.poll(connector, pending)) or pending
    await store(run, [(claim, outcomes)], expect="waiting")
