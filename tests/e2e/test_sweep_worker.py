"""A sweep over 2,000 subjects on PostgreSQL + Redis with real arq workers: a first worker is
abandoned part-way, a second finishes, and every subject was queried exactly once."""

from __future__ import annotations

import secrets
from collections import Counter

from redis.asyncio import Redis

from enforcement.assets import sweep
from enforcement.core import db, jobs
from enforcement.worker import build_worker
from tests.assets import conftest as asset_fixtures
from tests.assets.helpers import bulk_cases
from tests.conftest import REDIS_URL, requires_postgres, requires_redis

pytestmark = [requires_postgres, requires_redis]
# the asset tests' fixtures: mock registries in-process, counted requests, installed connectors
mock_app = asset_fixtures.mock_app
request_counts_fixture = asset_fixtures.request_counts
install = asset_fixtures.install
connectors_fixture = asset_fixtures.connectors
SUBJECTS = 2000


async def _forget_sweep_job_ids(redis: Redis) -> None:
    """arq keeps job ids of earlier test runs (same date, same respondent ids)."""
    async for key in redis.scan_iter(match="arq:*sweep:*", count=1000):
        await redis.delete(key)


async def test_sweep_of_2000_subjects_survives_an_abandoned_worker(
    settings, engine, connectors: object, request_counts: Counter[str], uow: object
):
    redis_settings = settings.model_copy(
        update={"redis_url": REDIS_URL, "queue_name": f"enf-test:{secrets.token_hex(4)}"}
    )
    redis = Redis.from_url(REDIS_URL)
    await _forget_sweep_job_ids(redis)
    ids = await bulk_cases(SUBJECTS)
    backend = await jobs.ArqBackend.connect(REDIS_URL, redis_settings.queue_name)
    previous = jobs.set_backend(backend)
    try:
        async with db.unit_of_work() as s:
            run, created = await sweep.start_sweep(s, trigger="test")
        assert created
        assert run.subjects_total == SUBJECTS

        first = build_worker(redis_settings, burst=True, max_burst_jobs=400)
        await first.main()
        await first.close()
        db.configure(settings.database_url)  # the worker's shutdown disposed the engine
        async with db.unit_of_work() as s:
            partial = await sweep.get_sweep(s, run.id)
        assert 0 < partial.subjects_done < SUBJECTS

        second = build_worker(redis_settings, burst=True)
        await second.main()
        await second.close()
        db.configure(settings.database_url)
    finally:
        jobs.set_backend(previous)
        await backend.close()
        await _forget_sweep_job_ids(redis)
        await redis.aclose()

    async with db.unit_of_work() as s:
        summary = await sweep.get_sweep(s, run.id)
    assert summary.status == "done"
    assert summary.subjects_done == SUBJECTS
    assert summary.assets_new > SUBJECTS // 2
    vehicle = {k: v for k, v in request_counts.items() if k.startswith("GET /vehicle/owners/")}
    assert len(vehicle) == SUBJECTS
    assert set(vehicle.values()) == {1}, "no subject was queried twice"
    submits = request_counts["POST /bank/inquiries"]
    assert submits == SUBJECTS
    assert len(ids) == SUBJECTS
