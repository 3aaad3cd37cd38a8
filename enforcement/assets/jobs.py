"""Jobs of the assets domain: thin wrappers that load by id and call a use case."""

from __future__ import annotations

from typing import Any

from enforcement.assets import freezes, inquiries, sweep
from enforcement.core import db, jobs
from enforcement.core.settings import get_settings


@jobs.job(inquiries.RUN_JOB, max_tries=len(inquiries.RETRY_DELAYS) + 2)
async def run_inquiry_task(ctx: dict[str, Any], task_id: int) -> None:
    """Ask one registry about one respondent (retried for minutes when it is unavailable)."""
    await inquiries.run_task(task_id)


@jobs.job(inquiries.POLL_JOB)
async def poll_inquiry_task(ctx: dict[str, Any], task_id: int) -> None:
    """Poll an asynchronous registry's answer; re-enqueues itself with backoff."""
    await inquiries.poll_task(task_id)


@jobs.job("assets.nightly_sweep", max_tries=1)
async def nightly_sweep(ctx: dict[str, Any]) -> None:
    """Start tonight's sweep (one run per date, whatever the number of workers)."""
    async with db.unit_of_work() as session:
        await sweep.start_sweep(session, trigger="cron")


@jobs.job(sweep.FANOUT_JOB)
async def enqueue_sweep_batch(ctx: dict[str, Any], sweep_id: int, after_id: int) -> None:
    """Enqueue the batch jobs of the next ranges of a sweep's subjects."""
    await sweep.enqueue_batch(sweep_id, after_id)


@jobs.job(sweep.BATCH_JOB, timeout_seconds=300)
async def sweep_batch(ctx: dict[str, Any], sweep_id: int, first_id: int, last_id: int) -> None:
    """Re-query a range of a sweep's subjects, each at most once per sweep.

    A second try means the first died (killed worker, timeout): its claims are closed as
    interrupted, never asked again.
    """
    await sweep.process_batch(
        sweep_id,
        first_id,
        last_id,
        window=sweep.worker_window(),
        retried=int(ctx.get("job_try") or 1) > 1,
    )


@jobs.job(sweep.POLL_JOB)
async def poll_sweep_subject(ctx: dict[str, Any], row_id: int) -> None:
    """Poll the asynchronous registries of a waiting sweep subject."""
    await sweep.poll_subject(row_id)


@jobs.job(sweep.FINISH_JOB)
async def finish_sweep(ctx: dict[str, Any], sweep_id: int, check: int) -> None:
    """Close a sweep run once every subject is done."""
    await sweep.finish(sweep_id, check)


@jobs.job("assets.check_freezes", max_tries=1)
async def check_freezes(ctx: dict[str, Any]) -> None:
    """Warn about freezes ending within 30 days and mark lapsed ones expired (查封 27)."""
    async with db.unit_of_work() as session:
        await freezes.check_expiries(session)


_settings = get_settings()
jobs.cron("assets.nightly_sweep", hour=_settings.sweep_hour, minute=_settings.sweep_minute)
jobs.cron("assets.check_freezes", hour=1, minute=30)

from enforcement.assets import freeze_jobs  # noqa: E402,F401  (registers the freeze jobs)
