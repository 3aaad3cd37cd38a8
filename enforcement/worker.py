"""Composition root of the job worker: arq ``WorkerSettings`` built from every domain's jobs.

Run with ``enforcement worker``. Several workers may run against one Redis; deterministic job
ids keep a re-run or a second worker from repeating work.
"""

from __future__ import annotations

from typing import Any

from arq.worker import Worker

from enforcement import domains
from enforcement.core import clock, db, jobs
from enforcement.core.settings import Settings, get_settings


def worker_settings(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``arq.Worker`` from our settings."""
    settings = settings or get_settings()
    if not settings.redis_url:
        raise RuntimeError(
            "the worker needs ENFORCEMENT_REDIS_URL (embedded mode runs jobs in-process)"
        )
    domains.wire()

    async def on_startup(ctx: dict[str, Any]) -> None:
        db.configure(settings.database_url, echo=settings.sql_echo)
        jobs.set_backend(jobs.ArqBackend(ctx["redis"], settings.queue_name))
        await domains.startup(settings)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await domains.shutdown()
        await db.dispose()

    longest = max((spec.timeout_seconds for spec in jobs.registered_jobs().values()), default=300)
    return {
        "functions": jobs.arq_functions(),
        "cron_jobs": jobs.arq_cron_jobs(),
        "redis_settings": jobs.redis_settings(settings.redis_url),
        "queue_name": settings.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay,
        "timezone": clock.SHANGHAI,
        "job_timeout": longest,
        "health_check_key": f"{settings.queue_name}:health-check",
        "handle_signals": True,
    }


def build_worker(settings: Settings | None = None, **overrides: Any) -> Worker:
    """A ready ``arq.Worker`` (tests pass ``burst=True``)."""
    options = worker_settings(settings)
    options.update(overrides)
    return Worker(**options)
