"""Jobs wait for the commit, keep their ids unique, and run on arq exactly like in-process."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from enforcement.core import jobs
from tests.conftest import REDIS_URL, requires_redis

CALLS: list[tuple[str, int]] = []


@jobs.job("test.record_call")
async def record_call(ctx: dict, value: int) -> None:
    """A job that remembers it ran."""
    CALLS.append((ctx.get("job_id") or "", value))


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


async def test_jobs_are_released_only_after_commit(uow, runner):
    async with uow() as s:
        jobs.enqueue(s, "test.record_call", 1)
        await runner.run_due()
        assert CALLS == []  # not yet committed
    await runner.run_due()
    assert [v for _, v in CALLS] == [1]


async def test_rolled_back_jobs_never_run(uow, runner):
    with pytest.raises(RuntimeError):
        async with uow() as s:
            jobs.enqueue(s, "test.record_call", 2)
            raise RuntimeError("rollback")
    await runner.run_due()
    assert CALLS == []


async def test_job_id_makes_enqueue_idempotent(uow, runner):
    for _ in range(3):
        async with uow() as s:
            jobs.enqueue(s, "test.record_call", 3, job_id="once:3")
    await runner.run_due()
    assert CALLS == [("once:3", 3)]


async def test_deferred_job_waits_for_service_clock(uow, runner, frozen_clock):
    async with uow() as s:
        jobs.enqueue(s, "test.record_call", 4, defer_by=dt.timedelta(hours=1))
    await runner.run_due()
    assert CALLS == []
    frozen_clock.advance(hours=1)
    await runner.run_due()
    assert [v for _, v in CALLS] == [4]


TRIES: list[int] = []


@jobs.job("test.flaky", max_tries=3)
async def flaky(ctx: dict) -> None:
    """Always asks to be retried."""
    TRIES.append(ctx["job_try"])
    raise jobs.Retry(defer=5)


async def test_retry_counts_tries_and_stops_at_max(uow, runner, frozen_clock):
    TRIES.clear()
    async with uow() as s:
        jobs.enqueue(s, "test.flaky")
    for _ in range(5):
        await runner.run_due()
        frozen_clock.advance(seconds=5)
    assert TRIES == [1, 2, 3]
    assert [name for name, _ in runner.failures] == ["test.flaky"]


async def test_unknown_job_is_refused(uow):
    async with uow() as s:
        with pytest.raises(KeyError):
            jobs.enqueue(s, "test.no_such_job")


@requires_redis
async def test_same_jobs_run_on_a_real_arq_worker(settings, engine, uow):
    from enforcement.worker import build_worker

    redis_settings = settings.model_copy(
        update={"redis_url": REDIS_URL, "queue_name": f"enf-test:{secrets.token_hex(4)}"}
    )
    backend = await jobs.ArqBackend.connect(REDIS_URL, redis_settings.queue_name)
    previous = jobs.set_backend(backend)
    try:
        for _ in range(2):
            async with uow() as s:
                jobs.enqueue(s, "test.record_call", 5, job_id="arq-once:5")
        worker = build_worker(redis_settings, burst=True, poll_delay=0.01)
        worker.on_startup = None  # the test already configured the database
        worker.on_shutdown = None
        await worker.main()
        await worker.close()
    finally:
        jobs.set_backend(previous)
        await backend.close()
    assert CALLS == [(f"{redis_settings.queue_name}:arq-once:5", 5)]
