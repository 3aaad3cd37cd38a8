"""Officer inquiries: one job per registry and respondent, results become asset rows.

A registry that fails leaves its task ``failed`` with the error and the inquiry ``partial``;
it never fails the others. Transient failures (after the seconds-scale retries of
``connectors.http``) get job retries measured in minutes before they are recorded.
Each task runs in short transactions around the network call, never holding one open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import PendingQuery, QueryResult
from enforcement.assets import querying, registries, rules
from enforcement.assets.errors import (
    CaseNotOpen,
    InquiryNotFound,
    NoRespondents,
    RegistryNotEnabled,
)
from enforcement.assets.models import Inquiry, InquiryTask
from enforcement.assets.reconcile import apply_records
from enforcement.cases import service as cases
from enforcement.cases.models import Party
from enforcement.core import audit, clock, db, jobs
from enforcement.core.auth import Principal, ensure_court
from enforcement.core.identifiers import mask_id_number
from enforcement.core.schemas import decode_cursor, encode_cursor

RUN_JOB = "assets.run_inquiry_task"
POLL_JOB = "assets.poll_inquiry_task"
RETRY_DELAYS = (60, 300)
"""Job-level retries of a transiently failing registry, in seconds (then it is recorded)."""
FINISHED = ("done", "failed")


async def start_inquiry(
    session: AsyncSession,
    principal: Principal,
    case_id: int,
    *,
    purpose: str | None = None,
    registries_wanted: Sequence[str] | None = None,
) -> Inquiry:
    """Ask every enabled registry about every respondent of an open case (one job each)."""
    case = await cases.get_case(session, case_id)
    ensure_court(principal, case.court_code)
    if case.status != "open":
        raise CaseNotOpen(details={"status": case.status})
    respondents = await cases.respondents_of(session, case_id)
    if not respondents:
        raise NoRespondents()
    enabled = list(registries.get_connectors())
    wanted = list(registries_wanted or enabled)
    unknown = sorted(set(wanted) - set(enabled))
    if unknown or not wanted:
        raise RegistryNotEnabled(details={"registries": unknown, "enabled": enabled})
    now = clock.now()
    inquiry = Inquiry(
        case_id=case.id,
        status="pending",
        purpose=purpose or f"enforcement of {case.case_number}",
        operator=principal.actor().name,
        created_at=now,
    )
    session.add(inquiry)
    await session.flush()
    tasks = [
        InquiryTask(
            inquiry_id=inquiry.id,
            party_id=party.id,
            registry_name=name,
            status="pending",
            polls=0,
            attempts=0,
            assets_found=0,
            assets_new=0,
            assets_changed=0,
            assets_gone=0,
            updated_at=now,
        )
        for party in respondents
        for name in wanted
    ]
    session.add_all(tasks)
    await session.flush()
    for task in tasks:
        jobs.enqueue(session, RUN_JOB, task.id, job_id=f"inquiry:{inquiry.id}:task:{task.id}")
    audit.record(
        session,
        action="inquiry.started",
        entity_type="inquiry",
        entity_id=inquiry.id,
        after={
            "case_id": case.id,
            "purpose": inquiry.purpose,
            "operator": inquiry.operator,
            "registries": wanted,
            "subjects": [mask_id_number(p.identifier) for p in respondents],
        },
    )
    return inquiry


@dataclass(frozen=True)
class RegistryProgress:
    """One registry's part of an inquiry, summed over the respondents."""

    registry: str
    status: str
    error: str | None
    assets_found: int


async def get_inquiry(
    session: AsyncSession, principal: Principal | None, inquiry_id: int
) -> tuple[Inquiry, list[RegistryProgress]]:
    """An inquiry with one entry per registry; the caller must be of the case's court."""
    inquiry = await session.get(Inquiry, inquiry_id, populate_existing=True)
    if inquiry is None:
        raise InquiryNotFound(details={"inquiry_id": inquiry_id})
    if principal is not None:
        case = await cases.get_case(session, inquiry.case_id)
        ensure_court(principal, case.court_code)
    tasks = list(
        (
            await session.execute(
                select(InquiryTask)
                .where(InquiryTask.inquiry_id == inquiry_id)
                .order_by(InquiryTask.id)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    inquiry.status = derive_status([t.status for t in tasks])
    return inquiry, _progress(tasks)


def _progress(tasks: Sequence[InquiryTask]) -> list[RegistryProgress]:
    """One entry per registry, summed over the respondents, in task order."""
    by_registry: dict[str, list[InquiryTask]] = {}
    for task in tasks:
        by_registry.setdefault(task.registry_name, []).append(task)
    return [
        RegistryProgress(
            registry=name,
            status=_registry_status([t.status for t in group]),
            error="; ".join(t.error for t in group if t.error) or None,
            assets_found=sum(t.assets_found for t in group),
        )
        for name, group in by_registry.items()
    ]


async def list_case_inquiries(
    session: AsyncSession,
    principal: Principal,
    case_id: int,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[tuple[Inquiry, list[RegistryProgress]]], str | None]:
    """A case's inquiries, newest first, each with its per-registry progress (own court)."""
    await cases.get_case_for(session, principal, case_id)
    query = (
        select(Inquiry)
        .where(Inquiry.case_id == case_id)
        .order_by(Inquiry.id.desc())
        .limit(limit + 1)
        .execution_options(populate_existing=True)
    )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Inquiry.id < int(after.get("id", 0)))
    found = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": found[limit - 1].id}) if len(found) > limit else None
    found = found[:limit]
    tasks: dict[int, list[InquiryTask]] = {i.id: [] for i in found}
    if found:
        rows = await session.execute(
            select(InquiryTask)
            .where(InquiryTask.inquiry_id.in_(list(tasks)))
            .order_by(InquiryTask.id)
            .execution_options(populate_existing=True)
        )
        for task in rows.scalars():
            tasks[task.inquiry_id].append(task)
    result = []
    for inquiry in found:
        inquiry.status = derive_status([t.status for t in tasks[inquiry.id]])
        result.append((inquiry, _progress(tasks[inquiry.id])))
    return result, next_cursor


def derive_status(statuses: Sequence[str]) -> str:
    """``pending`` until a task starts, ``done``/``partial`` once all finished."""
    if statuses and all(s in FINISHED for s in statuses):
        return "partial" if "failed" in statuses else "done"
    if all(s == "pending" for s in statuses):
        return "pending"
    return "running"


def _registry_status(statuses: Sequence[str]) -> str:
    if all(s in FINISHED for s in statuses):
        return "failed" if "failed" in statuses else "done"
    return "pending" if all(s == "pending" for s in statuses) else "running"


async def _load(session: AsyncSession, task_id: int) -> tuple[InquiryTask, Party] | None:
    task = await session.get(InquiryTask, task_id, with_for_update=db.is_postgres(session))
    if task is None:
        return None
    party = await session.get(Party, task.party_id)
    assert party is not None
    return task, party


async def run_task(task_id: int) -> None:
    """Job body: query one registry about one respondent and record what it said.

    Attempts are counted on the task row (not the queue's try counter), so the retry limit
    holds on every backend and across re-enqueues."""
    async with db.unit_of_work() as session:
        loaded = await _load(session, task_id)
        if loaded is None or loaded[0].status not in ("pending", "running"):
            return
        task, party = loaded
        task.status, task.updated_at = "running", clock.now()
        task.attempts += 1
        attempt = task.attempts
        inquiry = await session.get(Inquiry, task.inquiry_id)
        if inquiry is not None and inquiry.status == "pending":
            inquiry.status = "running"
        registry = task.registry_name
    connector = registries.get_connectors().get(registry)
    outcome: querying.Outcome = (
        await querying.ask(connector, querying.subject_of(party))
        if connector is not None
        else querying.Failure("registry not enabled", transient=False)
    )
    if isinstance(outcome, querying.Failure) and outcome.transient:
        if attempt <= len(RETRY_DELAYS):
            raise jobs.Retry(defer=RETRY_DELAYS[attempt - 1])
    await _record(task_id, outcome)


async def poll_task(task_id: int) -> None:
    """Job body: poll an asynchronous registry's answer; re-enqueue with backoff if not ready."""
    async with db.unit_of_work() as session:
        loaded = await _load(session, task_id)
        if loaded is None or loaded[0].status != "waiting" or loaded[0].handle is None:
            return
        task, party = loaded
        pending = PendingQuery(
            registry=task.registry_name, handle=task.handle, subject=querying.subject_of(party)
        )
    connector = registries.get_connectors().get(pending.registry)
    if connector is None:
        outcome: querying.Outcome | None = querying.Failure("registry not enabled", False)
    else:
        outcome = await querying.poll(connector, pending)
    await _record(task_id, outcome or pending)


async def _record(task_id: int, outcome: querying.Outcome) -> None:
    """Store an outcome: assets, a pending handle (and its poll job), or the error."""
    async with db.unit_of_work() as session:
        loaded = await _load(session, task_id)
        if loaded is None or loaded[0].status in FINISHED:
            return
        task, _ = loaded
        inquiry = await session.get(
            Inquiry, task.inquiry_id, with_for_update=db.is_postgres(session)
        )
        assert inquiry is not None
        now = clock.now()
        task.updated_at = now
        if isinstance(outcome, QueryResult):
            changes = await apply_records(
                session,
                case_id=inquiry.case_id,
                party_id=task.party_id,
                registry=task.registry_name,
                records=list(outcome.assets),
                now=now,
            )
            task.status = "done"
            task.assets_found, task.assets_new = changes.found, changes.new
            task.assets_changed, task.assets_gone = changes.changed, changes.gone
        elif isinstance(outcome, PendingQuery):
            task.polls += 1 if task.status == "waiting" else 0
            if task.polls >= rules.MAX_POLLS:
                task.status, task.error = "failed", f"no answer after {task.polls} polls"
            else:
                task.status, task.handle = "waiting", outcome.handle
                jobs.enqueue(
                    session,
                    POLL_JOB,
                    task.id,
                    job_id=f"inquiry-task:{task.id}:poll:{task.polls}",
                    defer_by=_seconds(rules.poll_delay_seconds(task.polls + 1)),
                )
        else:
            task.status, task.error = "failed", outcome.message
        await session.flush()
        if task.status in FINISHED:
            await _finish_if_complete(session, inquiry)


async def _finish_if_complete(session: AsyncSession, inquiry: Inquiry) -> None:
    statuses = list(
        (
            await session.execute(
                select(InquiryTask.status).where(InquiryTask.inquiry_id == inquiry.id)
            )
        ).scalars()
    )
    status = derive_status(statuses)
    if status in ("done", "partial") and inquiry.finished_at is None:
        inquiry.status, inquiry.finished_at = status, clock.now()
        audit.record(
            session,
            action=f"inquiry.{status}",
            entity_type="inquiry",
            entity_id=inquiry.id,
            after={"case_id": inquiry.case_id, "tasks": len(statuses)},
        )


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)
