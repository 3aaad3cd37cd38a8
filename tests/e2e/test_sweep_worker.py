"""A sweep over 3,000 subjects on PostgreSQL + Redis with real arq workers: the first worker
is stopped mid-sweep (SIGTERM: arq cancels its running jobs and re-queues them), a second
finishes the sweep, and no subject was queried twice.

The killed worker's claims are closed as interrupted by the re-run of their batch job, never
asked again that night; every other subject is asked exactly once. (After a SIGKILL arq
re-runs the job only once its in-progress key expires, longest job timeout + 10 s; the
database state and the path taken are the same.)
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections import Counter

from redis.asyncio import Redis
from sqlalchemy import select

from enforcement.assets import sweep
from enforcement.assets.models import SweepSubject
from enforcement.cases.models import Party
from enforcement.core import db, jobs
from enforcement.core.settings import Settings
from enforcement.worker import build_worker
from tests.assets import conftest as asset_fixtures
from tests.assets.helpers import bulk_cases
from tests.conftest import REDIS_URL, requires_postgres, requires_redis

pytestmark = [requires_postgres, requires_redis]
# the asset tests' fixtures: mock registries in-process, counted requests, installed connectors
mock_app = asset_fixtures.mock_app
request_counts = asset_fixtures.request_counts
install = asset_fixtures.install
connectors = asset_fixtures.connectors
SUBJECTS = 3000


async def _done(run_id: int) -> int:
    async with db.unit_of_work() as s:
        return (await sweep.get_sweep(s, run_id)).subjects_done


async def _kill_mid_sweep(settings: Settings, run_id: int) -> None:
    """Run a worker until a third of the subjects are done, then stop it with SIGTERM."""
    worker = build_worker(settings, burst=True)
    main = asyncio.create_task(worker.main())
    for _ in range(6000):  # bounded: 10 minutes at most
        await asyncio.sleep(0.1)
        if main.done() or await _done(run_id) >= SUBJECTS // 3:
            break
    assert not main.done(), "the worker finished before it could be stopped"
    worker.handle_sig(signal.SIGTERM)
    try:
        await main
    except asyncio.CancelledError:
        pass
    await worker.close()


async def test_sweep_survives_a_killed_worker_and_queries_nobody_twice(
    settings, engine, connectors: object, request_counts: Counter[str], uow: object
):
    queue = settings.model_copy(
        update={"redis_url": REDIS_URL, "queue_name": f"enf-test:{secrets.token_hex(4)}"}
    )
    ids = await bulk_cases(SUBJECTS)
    backend = await jobs.ArqBackend.connect(REDIS_URL, queue.queue_name)
    previous = jobs.set_backend(backend)
    try:
        async with db.unit_of_work() as s:
            run, created = await sweep.start_sweep(s, trigger="test")
        assert created
        assert run.subjects_total == SUBJECTS

        await _kill_mid_sweep(queue, run.id)
        db.configure(settings.database_url)  # the worker's shutdown disposed the engine
        assert SUBJECTS // 3 <= await _done(run.id) < SUBJECTS

        second = build_worker(queue, burst=True)
        await second.main()
        await second.close()
        db.configure(settings.database_url)
    finally:
        jobs.set_backend(previous)
        await backend.close()
        redis = Redis.from_url(REDIS_URL)
        async for key in redis.scan_iter(match=f"arq:*{queue.queue_name}*", count=1000):
            await redis.delete(key)
        await redis.aclose()

    async with db.unit_of_work() as s:
        summary = await sweep.get_sweep(s, run.id)
        rows = (
            await s.execute(
                select(Party.id_number, SweepSubject.errors)
                .join(Party, Party.id == SweepSubject.party_id)
                .where(SweepSubject.sweep_id == run.id)
            )
        ).all()
    assert summary.status == "done"
    assert summary.subjects_done == SUBJECTS
    interrupted = {r.id_number for r in rows if sweep.INTERRUPTED in (r.errors or {})}
    assert 0 < len(interrupted) <= settings.sweep_subjects_in_flight
    assert set(summary.errors) == {sweep.INTERRUPTED}, "no registry failed"
    assert summary.assets_new > SUBJECTS // 2
    vehicle = Counter(
        {k: v for k, v in request_counts.items() if k.startswith("GET /vehicle/owners/")}
    )
    assert set(vehicle.values()) == {1}, "no subject was queried twice"
    asked = {k.split("/")[3] for k in vehicle}
    assert asked >= set(ids) - interrupted, "everybody else was asked"
    assert request_counts["POST /bank/inquiries"] <= SUBJECTS
