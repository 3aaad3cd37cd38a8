"""Freeze jobs: follow queued freezes at the registry, release what a case no longer needs.

Kept apart from ``jobs.py`` (the sweep's); ``jobs.py`` imports this module so every worker
registers these jobs. ``on_case_ended`` is subscribed to the case events in ``wiring.wire``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.assets import freezes
from enforcement.cases.events import CaseClosed, CaseSatisfied
from enforcement.core import db, jobs


@jobs.job(freezes.SYNC_JOB, max_tries=4)
async def sync_freeze_status(ctx: dict[str, Any], freeze_id: int) -> None:
    """A queued freeze takes effect at the registry when the earlier one ends (查封 26)."""
    await freezes.sync_freeze_status(freeze_id)


@jobs.job(freezes.CASE_RELEASE_JOB, max_tries=6)
async def release_case_freezes(ctx: dict[str, Any], case_id: int) -> None:
    """A paid-off or closed case keeps no freeze (查封 19); retried while a registry is down."""
    await freezes.release_case_freezes(case_id)


@jobs.job(freezes.EXCESS_JOB, max_tries=4)
async def release_excess(ctx: dict[str, Any], case_id: int) -> None:
    """Release deposit money frozen beyond what the case is still owed (查封 19)."""
    async with db.unit_of_work() as session:
        await freezes.release_excess(session, case_id)


async def on_case_ended(session: AsyncSession, event: CaseSatisfied | CaseClosed) -> None:
    """Enqueue the release of the case's freezes after the closing transaction commits.

    The registries are called by the job, not inside the case's transaction; the job id is
    per case, so a repeated event never releases twice (the job skips ended freezes anyway).
    """
    if isinstance(event, CaseClosed) and event.mode in freezes.KEEPS_FREEZES:
        return
    jobs.enqueue(
        session,
        freezes.CASE_RELEASE_JOB,
        event.case_id,
        job_id=f"assets:release-case:{event.case_id}",
    )
