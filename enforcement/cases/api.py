"""Case endpoints: ``/cases``, payments, closing and ``/stats``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from enforcement.cases import rules, service
from enforcement.cases.models import Case
from enforcement.cases.schemas import (
    CaseClose,
    CaseCreate,
    CaseRead,
    PartyRead,
    PaymentCreate,
    PaymentRead,
    StatsRead,
)
from enforcement.core import clock
from enforcement.core import stats as stats_registry
from enforcement.core.auth import ensure_court
from enforcement.core.deps import CourtStaff, OfficerOrAdmin, Session
from enforcement.core.errors import InvalidInput
from enforcement.core.idempotency import IdempotencyKey
from enforcement.core.schemas import ERROR_RESPONSES, Page

router = APIRouter(tags=["cases"], responses=ERROR_RESPONSES)


def to_read(case: Case) -> CaseRead:
    """The API view of a loaded case."""
    return CaseRead(
        id=case.id,
        case_number=case.case_number,
        court_code=case.court_code,
        filed_on=case.filed_on,
        basis=case.basis,
        principal=case.principal,
        outstanding=case.outstanding,
        fee=case.fee,
        fee_outstanding=case.fee_outstanding,
        deadline=case.deadline,
        overdue=rules.is_overdue(case.status, case.deadline, clock.today()),
        status=case.status,
        close_mode=case.close_mode,
        close_reason=case.close_reason,
        closed_at=case.closed_at,
        applicant=PartyRead.model_validate(case.applicant),
        respondents=[PartyRead.model_validate(r.party) for r in case.respondents],
        created_at=case.created_at,
    )


@router.post("/cases", status_code=201, response_model=CaseRead, summary="Open a case")
async def create_case(
    body: CaseCreate, session: Session, principal: OfficerOrAdmin, idempotency: IdempotencyKey
) -> JSONResponse:
    """Open an enforcement case; the fee and the 6-month deadline are computed."""

    async def handler() -> CaseRead:
        return to_read(await service.create_case(session, principal, body))

    return await idempotency.run(handler)


@router.get("/cases", response_model=Page[CaseRead], summary="List cases")
async def list_cases(
    session: Session,
    principal: CourtStaff,
    status: str | None = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="case number, name or ID")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[CaseRead]:
    """Cases of the caller's court (all courts for admins), newest first."""
    cases, next_cursor = await service.list_cases(
        session, principal, status=status, overdue=overdue, q=q, limit=limit, cursor=cursor
    )
    return Page[CaseRead](items=[to_read(c) for c in cases], next_cursor=next_cursor)


@router.get("/cases/{case_id}", response_model=CaseRead, summary="Read a case")
async def get_case(case_id: int, session: Session, principal: CourtStaff) -> CaseRead:
    return to_read(await service.get_case_for(session, principal, case_id))


@router.post(
    "/cases/{case_id}/payments", status_code=201, response_model=PaymentRead, summary="Pay"
)
async def record_payment(
    case_id: int,
    body: PaymentCreate,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """Record money received; at zero outstanding the case is satisfied."""

    async def handler() -> PaymentRead:
        case = await service.get_case(session, case_id)
        ensure_court(principal, case.court_code)
        payment = await service.record_payment(
            session, case_id, body.amount, source=body.source, note=body.note
        )
        return PaymentRead.model_validate(payment)

    return await idempotency.run(handler)


@router.get("/cases/{case_id}/payments", response_model=list[PaymentRead], summary="Payments")
async def list_payments(case_id: int, session: Session, principal: CourtStaff) -> list[PaymentRead]:
    await service.get_case_for(session, principal, case_id)
    return [PaymentRead.model_validate(p) for p in await service.list_payments(session, case_id)]


@router.post("/cases/{case_id}/close", response_model=CaseRead, summary="Close a case")
async def close_case(
    case_id: int,
    body: CaseClose,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """Close with a statutory mode (执行完毕, 终本, 终结…) when its conditions hold."""

    async def handler() -> CaseRead:
        case = await service.close_case(
            session, principal, case_id, mode=body.mode, reason=body.reason
        )
        return to_read(case)

    return await idempotency.run(handler, status=200)


@router.get("/stats", response_model=StatsRead, summary="Annual-report figures")
async def get_stats(
    session: Session,
    principal: CourtStaff,
    date_from: Annotated[dt.date | None, Query(alias="from")] = None,
    date_to: Annotated[dt.date | None, Query(alias="to")] = None,
) -> StatsRead:
    """Received, closed, closure rate, within-limit rate, plus each domain's figures."""
    today = clock.today()
    start = date_from or dt.date(today.year, 1, 1)
    end = date_to or today
    if end < start:
        raise InvalidInput("`to` is before `from`", code="invalid_period")
    court = None if principal.role == "admin" else principal.court_code
    figures = await service.case_stats(session, start, end, court)
    for name, provider in stats_registry.providers().items():
        figures[name] = await provider(session, start, end, court)
    return StatsRead(**figures)
