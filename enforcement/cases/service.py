"""Case use cases: open a case, read and list cases, record payments, close, statistics.

Services take the session, may flush, never commit. Other domains call ``get_case``,
``respondents_of`` and ``record_payment`` (deductions and auction proceeds become payments).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from enforcement.cases import rules
from enforcement.cases.errors import (
    CaseClosed,
    CaseNotFound,
    CaseNumberCourtMismatch,
    CloseRefused,
    DuplicateCaseNumber,
    PaymentExceedsOutstanding,
)
from enforcement.cases.events import CaseClosed as CaseClosedEvent
from enforcement.cases.events import CaseSatisfied
from enforcement.cases.models import Case, CaseRespondent, Party, Payment
from enforcement.cases.schemas import CaseCreate, PartyCreate
from enforcement.core import audit, clock, events
from enforcement.core.auth import Principal, ensure_court
from enforcement.core.identifiers import parse_case_number
from enforcement.core.schemas import decode_cursor, encode_cursor
from enforcement.core.settings import get_settings


def holidays() -> list[dt.date]:
    """Configured non-working days besides weekends."""
    return [dt.date.fromisoformat(day) for day in get_settings().holidays]


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "outstanding": case.outstanding,
        "fee_paid": case.fee_paid,
        "close_mode": case.close_mode,
    }


def _case_query() -> Any:
    return select(Case).options(
        selectinload(Case.applicant),
        selectinload(Case.respondents).selectinload(CaseRespondent.party),
    )


async def _party(session: AsyncSession, data: PartyCreate) -> Party:
    party = Party(**data.model_dump(), created_at=clock.now())
    session.add(party)
    return party


async def create_case(session: AsyncSession, principal: Principal, data: CaseCreate) -> Case:
    """Open a case: compute fee and deadline, store parties; the court comes from the number."""
    court_code = parse_case_number(data.case_number).court_code
    if principal.role != "admin" and principal.court_code != court_code:
        raise CaseNumberCourtMismatch(details={"court_code": court_code})
    exists = await session.scalar(select(Case.id).where(Case.case_number == data.case_number))
    if exists is not None:
        raise DuplicateCaseNumber(details={"case_number": data.case_number, "id": exists})
    now = clock.now()
    applicant = await _party(session, data.applicant)
    case = Case(
        case_number=data.case_number,
        court_code=court_code,
        filed_on=data.filed_on,
        basis=data.basis,
        principal=data.principal,
        fee=rules.application_fee(data.principal),
        outstanding=data.principal,
        fee_paid=0,
        deadline=rules.execution_deadline(data.filed_on, holidays()),
        status="open",
        applicant=applicant,
        created_at=now,
        updated_at=now,
    )
    for position, respondent in enumerate(data.respondents):
        case.respondents.append(
            CaseRespondent(party=await _party(session, respondent), position=position)
        )
    session.add(case)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent request took the number first
        raise DuplicateCaseNumber(details={"case_number": data.case_number}) from exc
    audit.record(
        session,
        action="case.created",
        entity_type="case",
        entity_id=case.id,
        after={"case_number": case.case_number, "principal": case.principal, "fee": case.fee},
    )
    return await get_case(session, case.id)


async def get_case(session: AsyncSession, case_id: int, *, for_update: bool = False) -> Case:
    """Load a case with its parties; 404 if missing."""
    query = _case_query().where(Case.id == case_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update(of=Case)
    case = (await session.execute(query)).scalar_one_or_none()
    if case is None:
        raise CaseNotFound(details={"case_id": case_id})
    return case


async def get_case_for(session: AsyncSession, principal: Principal, case_id: int) -> Case:
    """Load a case the caller may see (own court unless admin)."""
    case = await get_case(session, case_id)
    ensure_court(principal, case.court_code)
    return case


async def respondents_of(session: AsyncSession, case_id: int) -> list[Party]:
    """The respondents (被执行人) of a case, in filing order."""
    rows = await session.execute(
        select(Party)
        .join(CaseRespondent, CaseRespondent.party_id == Party.id)
        .where(CaseRespondent.case_id == case_id)
        .order_by(CaseRespondent.position)
    )
    return list(rows.scalars())


async def list_cases(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    """Keyset-paginated cases (newest id first), own court only for court staff."""
    query = _case_query().order_by(Case.id.desc()).limit(limit + 1)
    if principal.role != "admin":
        query = query.where(Case.court_code == principal.court_code)
    if status:
        query = query.where(Case.status == status)
    today = clock.today()
    if overdue is True:
        query = query.where(Case.status == "open", Case.deadline < today)
    elif overdue is False:
        query = query.where(or_(Case.status != "open", Case.deadline >= today))
    if q:
        pattern = f"%{q}%"
        party_match = (
            select(CaseRespondent.case_id)
            .join(Party, Party.id == CaseRespondent.party_id)
            .where(or_(Party.name.like(pattern), Party.id_number == q, Party.credit_code == q))
        )
        query = query.where(or_(Case.case_number.like(pattern), Case.id.in_(party_match)))
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Case.id < int(after.get("id", 0)))
    cases = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": cases[limit - 1].id}) if len(cases) > limit else None
    return cases[:limit], next_cursor


async def record_payment(
    session: AsyncSession,
    case_id: int,
    amount: int,
    *,
    source: str,
    note: str | None = None,
    reference: str | None = None,
    fees_first: bool = False,
) -> Payment:
    """Apply money to a case; paying it off marks it satisfied and publishes ``CaseSatisfied``."""
    case = await get_case(session, case_id, for_update=True)
    if case.status != "open":
        raise CaseClosed(details={"status": case.status})
    if amount > case.outstanding + case.fee_outstanding:
        raise PaymentExceedsOutstanding(
            details={"owed": case.outstanding + case.fee_outstanding, "amount": amount}
        )
    before = _snapshot(case)
    split = rules.split_payment(
        amount, case.outstanding, case.fee_outstanding, fees_first=fees_first
    )
    payment = Payment(
        case_id=case.id,
        amount=amount,
        to_principal=split.to_principal,
        to_fee=split.to_fee,
        source=source,
        note=note,
        reference=reference,
        received_at=clock.now(),
    )
    session.add(payment)
    case.outstanding -= split.to_principal
    case.fee_paid += split.to_fee
    case.updated_at = clock.now()
    satisfied = case.outstanding == 0
    if satisfied:
        case.status = "satisfied"
        case.close_mode = "satisfied"
        case.close_reason = "paid off"
        case.closed_at = clock.now()
    await session.flush()
    audit.record(
        session,
        action="case.payment_recorded",
        entity_type="case",
        entity_id=case.id,
        before=before,
        after={**_snapshot(case), "payment_id": payment.id, "amount": amount, "source": source},
    )
    if satisfied:
        await events.publish(session, CaseSatisfied(case.id, case.court_code))
    return payment


async def close_case(
    session: AsyncSession, principal: Principal, case_id: int, *, mode: str, reason: str
) -> Case:
    """Close a case in one of the statutory modes, if its conditions hold."""
    case = await get_case(session, case_id, for_update=True)
    ensure_court(principal, case.court_code)
    if case.status != "open":
        raise CaseClosed(details={"status": case.status})
    refusal = rules.close_refusal(
        mode, outstanding=case.outstanding, filed_on=case.filed_on, today=clock.today()
    )
    if refusal:
        raise CloseRefused(refusal[1], code=refusal[0])
    before = _snapshot(case)
    case.status = mode
    case.close_mode = mode
    case.close_reason = reason
    case.closed_at = clock.now()
    case.updated_at = clock.now()
    await session.flush()
    audit.record(
        session,
        action="case.closed",
        entity_type="case",
        entity_id=case.id,
        before=before,
        after={**_snapshot(case), "reason": reason},
    )
    if mode == "satisfied":
        await events.publish(session, CaseSatisfied(case.id, case.court_code))
    else:
        await events.publish(session, CaseClosedEvent(case.id, case.court_code, mode))
    return await get_case(session, case.id)


async def list_payments(session: AsyncSession, case_id: int) -> list[Payment]:
    """Payments of a case, oldest first."""
    rows = await session.execute(
        select(Payment).where(Payment.case_id == case_id).order_by(Payment.id)
    )
    return list(rows.scalars())


async def case_stats(
    session: AsyncSession, date_from: dt.date, date_to: dt.date, court_code: str | None
) -> dict[str, Any]:
    """Received, closed, closure and within-limit rates, open and overdue, money recovered."""
    scope = [Case.court_code == court_code] if court_code else []
    start = clock.start_of_local_day(date_from)
    end = clock.start_of_local_day(date_to + dt.timedelta(days=1))
    received = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(*scope, Case.filed_on >= date_from, Case.filed_on <= date_to)
    )
    closed_rows = (
        await session.execute(
            select(Case.closed_at, Case.deadline).where(
                *scope, Case.closed_at.is_not(None), Case.closed_at >= start, Case.closed_at < end
            )
        )
    ).all()
    closed = len(closed_rows)
    within = sum(1 for row in closed_rows if clock.local_date(row.closed_at) <= row.deadline)
    today = clock.today()
    open_count = await session.scalar(
        select(func.count()).select_from(Case).where(*scope, Case.status == "open")
    )
    overdue = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(*scope, and_(Case.status == "open", Case.deadline < today))
    )
    recovered = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0))
        .join(Case, Case.id == Payment.case_id)
        .where(*scope, Payment.received_at >= start, Payment.received_at < end)
    )
    return {
        "period_from": date_from,
        "period_to": date_to,
        "received": received or 0,
        "closed": closed,
        "closure_rate": round(closed / received, 4) if received else None,
        "closed_within_limit": within,
        "within_limit_rate": round(within / closed, 4) if closed else None,
        "open": open_count or 0,
        "overdue": overdue or 0,
        "recovered": int(recovered or 0),
    }
