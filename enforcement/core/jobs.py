"""The jobs facade: the only module that imports arq.

Domains declare jobs with ``@job("domain.verb_noun")`` (async functions taking ``ctx`` then ids)
and cron with ``cron(...)``. ``enqueue(session, name, *args, job_id=...)`` buffers the job on the
session; the unit of work releases it after the commit and drops it on rollback. With Redis
configured jobs go to arq; without it (the embedded default) the ``InProcessRunner`` runs the
same functions with the same signatures in this process. A deterministic ``job_id`` makes
enqueueing idempotent on both backends (arq refuses a job id it still holds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob
from arq.cron import cron as arq_cron
from arq.typing import WorkerCoroutine
from arq.worker import Retry, func
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import clock

log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]
_PENDING = "jobs_pending"

__all__ = ["Retry", "cron", "enqueue", "job", "registered_jobs"]


@dataclass
class JobSpec:
    """A registered job: its name, function and arq options."""

    name: str
    function: JobFunction
    max_tries: int = 5
    timeout_seconds: int = 300


@dataclass
class CronSpec:
    """A periodic job: minute/hour sets in the service timezone (arq counts in the worker's)."""

    name: str
    job_name: str
    hour: set[int] | int | None = None
    minute: set[int] | int | None = None
    second: int = 0
    unique: bool = True
    run_at_startup: bool = False


_jobs: dict[str, JobSpec] = {}
_crons: dict[str, CronSpec] = {}


def job(
    name: str, *, max_tries: int = 5, timeout_seconds: int = 300
) -> Callable[[JobFunction], JobFunction]:
    """Register an async job function under ``name`` (``domain.verb_noun``)."""

    def decorate(function: JobFunction) -> JobFunction:
        _jobs[name] = JobSpec(name, function, max_tries, timeout_seconds)
        return function

    return decorate


def cron(
    job_name: str,
    *,
    hour: set[int] | int | None = None,
    minute: set[int] | int | None = None,
    second: int = 0,
    run_at_startup: bool = False,
) -> None:
    """Declare a periodic run of a registered job."""
    _crons[job_name] = CronSpec(job_name, job_name, hour, minute, second, True, run_at_startup)


def registered_jobs() -> dict[str, JobSpec]:
    """Every job declared so far (the worker registers them with arq)."""
    return dict(_jobs)


def registered_crons() -> dict[str, CronSpec]:
    """Every cron declared so far."""
    return dict(_crons)


@dataclass
class PendingJob:
    """A job waiting for its transaction to commit."""

    name: str
    args: tuple[Any, ...]
    job_id: str | None
    defer_until: dt.datetime | None
    defer_by: dt.timedelta | None
    attempt: int = 1


def enqueue(
    session: AsyncSession,
    name: str,
    *args: Any,
    job_id: str | None = None,
    defer_until: dt.datetime | None = None,
    defer_by: dt.timedelta | None = None,
) -> None:
    """Queue a job to run after this session's transaction commits."""
    if name not in _jobs:
        raise KeyError(f"unknown job {name!r}")
    session.info.setdefault(_PENDING, []).append(
        PendingJob(name, args, job_id, defer_until, defer_by)
    )


def discard_pending(session: AsyncSession) -> None:
    """The transaction rolled back: its jobs never happened."""
    session.info.pop(_PENDING, None)


async def release_pending(session: AsyncSession) -> None:
    """Hand the committed transaction's jobs to the backend."""
    pending: list[PendingJob] = session.info.pop(_PENDING, [])
    for item in pending:
        await get_backend().submit(item)


class Backend:
    """Where released jobs go."""

    async def submit(self, item: PendingJob) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    async def submit_now(
        self, name: str, *args: Any, job_id: str | None = None, defer_by: dt.timedelta | None = None
    ) -> bool:
        """Enqueue outside a transaction (CLI, cron fan-out); False if the job id is taken."""
        return await self.submit(PendingJob(name, args, job_id, None, defer_by))

    async def close(self) -> None:
        return None


class ArqBackend(Backend):
    """Jobs on Redis through arq; any number of workers consume them."""

    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    @classmethod
    async def connect(cls, redis_url: str, queue_name: str) -> ArqBackend:
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)), queue_name)

    async def submit(self, item: PendingJob) -> bool:
        defer_until = item.defer_until
        if defer_until is not None:
            # arq schedules by the wall clock; translate a service-clock instant.
            defer_until = dt.datetime.now(dt.UTC) + (defer_until - clock.now())
        # arq job keys are global to the Redis database: scope our ids by queue so that two
        # deployments (or two test runs) sharing one Redis never block each other's jobs.
        job_id = f"{self.queue_name}:{item.job_id}" if item.job_id else None
        result = await self.redis.enqueue_job(
            item.name,
            *item.args,
            _job_id=job_id,
            _queue_name=self.queue_name,
            _defer_until=defer_until,
            _defer_by=item.defer_by,
        )
        return result is not None

    async def close(self) -> None:
        await self.redis.aclose()


@dataclass(order=True)
class _Scheduled:
    due: dt.datetime
    order: int
    item: PendingJob = field(compare=False)


class InProcessRunner(Backend):
    """The embedded backend: same job functions, run as asyncio tasks in this process.

    Due times follow the service clock, so moving the clock in a demo or a test makes jobs due.
    Job ids are remembered (like arq's kept results) so a repeat is refused.
    """

    def __init__(self, ctx: dict[str, Any] | None = None) -> None:
        self.ctx: dict[str, Any] = ctx or {}
        self._queue: list[_Scheduled] = []
        self._seen_ids: set[str] = set()
        self._counter = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.failures: list[tuple[str, BaseException]] = []

    async def submit(self, item: PendingJob) -> bool:
        if item.job_id is not None:
            if item.job_id in self._seen_ids:
                return False
            self._seen_ids.add(item.job_id)
        now = clock.now()
        due = item.defer_until or (now + item.defer_by if item.defer_by else now)
        self._counter += 1
        self._queue.append(_Scheduled(due, self._counter, item))
        self._queue.sort()
        self._wake.set()
        return True

    def forget_job_id(self, job_id: str) -> None:
        """Allow a job id again (a new night, a finished unique cron run)."""
        self._seen_ids.discard(job_id)

    async def run_due(self, limit: int = 100_000) -> int:
        """Run every job that is due now by the service clock, including ones they enqueue."""
        ran = 0
        while ran < limit:
            now = clock.now()
            if not self._queue or self._queue[0].due > now:
                return ran
            scheduled = self._queue.pop(0)
            await self._run(scheduled.item)
            ran += 1
        return ran

    async def _run(self, item: PendingJob) -> None:
        spec = _jobs[item.name]
        attempt = item.attempt
        ctx = {**self.ctx, "job_id": item.job_id, "job_try": attempt}
        try:
            await spec.function(ctx, *item.args)
        except Retry as retry:
            if attempt < spec.max_tries:
                delay = retry.defer_score / 1000 if retry.defer_score else 1.0
                self._counter += 1
                item.defer_until = clock.now() + dt.timedelta(seconds=delay)
                item.attempt = attempt + 1
                self._queue.append(_Scheduled(item.defer_until, self._counter, item))
                self._queue.sort()
            else:
                self.failures.append((item.name, retry))
        except Exception as exc:  # a failed job must not stop the runner
            log.exception("job %s failed", item.name)
            self.failures.append((item.name, exc))

    async def fire_crons(self) -> int:
        """Enqueue each cron whose minute has come on the service clock (once per minute)."""
        local = clock.now().astimezone(clock.SHANGHAI)
        minute_key = local.strftime("%Y%m%d%H%M")
        fired = 0
        for spec in _crons.values():
            if _matches(spec.hour, local.hour) and _matches(spec.minute, local.minute):
                job_id = f"cron:{spec.name}:{minute_key}"
                if await self.submit(PendingJob(spec.job_name, (), job_id, None, None)):
                    fired += 1
        return fired

    async def serve(self, poll_seconds: float = 0.5) -> None:
        """Run jobs and crons as they fall due, until cancelled (the embedded ``serve``)."""
        while True:
            await self.fire_crons()
            await self.run_due()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass


def _matches(allowed: set[int] | int | None, value: int) -> bool:
    if allowed is None:
        return True
    if isinstance(allowed, int):
        return allowed == value
    return value in allowed


_backend: Backend | None = None


def get_backend() -> Backend:
    """The configured backend; the embedded runner if none was configured."""
    global _backend
    if _backend is None:
        _backend = InProcessRunner()
    return _backend


def set_backend(backend: Backend | None) -> Backend | None:
    """Install a backend (start-up, tests); returns the previous one."""
    global _backend
    previous, _backend = _backend, backend
    return previous


async def configure(redis_url: str | None, queue_name: str) -> Backend:
    """Pick arq when Redis is configured, the in-process runner otherwise."""
    backend: Backend
    if redis_url:
        backend = await ArqBackend.connect(redis_url, queue_name)
    else:
        backend = InProcessRunner()
    set_backend(backend)
    return backend


def arq_functions() -> list[Any]:
    """Registered jobs as arq functions (for ``WorkerSettings.functions``)."""
    return [
        func(
            cast(WorkerCoroutine, spec.function),
            name=spec.name,
            max_tries=spec.max_tries,
            timeout=spec.timeout_seconds,
        )
        for spec in _jobs.values()
    ]


def arq_cron_jobs() -> list[CronJob]:
    """Registered crons for arq (the worker evaluates them in Asia/Shanghai)."""
    return [
        arq_cron(
            cast(WorkerCoroutine, _jobs[spec.job_name].function),
            name=f"cron:{spec.name}",
            hour=spec.hour,
            minute=spec.minute,
            second=spec.second,
            unique=spec.unique,
            run_at_startup=spec.run_at_startup,
        )
        for spec in _crons.values()
    ]


def redis_settings(redis_url: str) -> RedisSettings:
    """arq's connection settings from a URL."""
    return RedisSettings.from_dsn(redis_url)


def job_names(specs: Sequence[JobSpec]) -> list[str]:
    """Names of job specs (diagnostics)."""
    return [spec.name for spec in specs]
