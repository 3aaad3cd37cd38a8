"""HTTP endpoints of the assets domain: inquiries, assets, freezes and sweeps (api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from enforcement.assets import inquiries, service, sweep, views
from enforcement.assets.schemas import (
    AssetKind,
    AssetRead,
    FreezeCreate,
    FreezeDeduct,
    FreezeRead,
    FreezeRelease,
    FreezeRenew,
    InquiryAccepted,
    InquiryCreate,
    InquiryRead,
    SweepAccepted,
    SweepRead,
)
from enforcement.core.deps import Admin, CourtStaff, OfficerOrAdmin, Session
from enforcement.core.idempotency import IdempotencyKey
from enforcement.core.schemas import ERROR_RESPONSES, Page

router = APIRouter(tags=["assets"], responses=ERROR_RESPONSES)


@router.post(
    "/cases/{case_id}/inquiries",
    status_code=202,
    response_model=InquiryAccepted,
    summary="Query the registries about a case's respondents",
)
async def start_inquiry(
    case_id: int,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
    body: InquiryCreate | None = None,
) -> JSONResponse:
    """One job per registry and respondent; purpose and operator are recorded (查冻 7)."""
    body = body or InquiryCreate()

    async def handler() -> InquiryAccepted:
        inquiry = await service.start_inquiry(
            session, principal, case_id, purpose=body.purpose, registries_wanted=body.registries
        )
        return InquiryAccepted(id=inquiry.id, status=inquiry.status)

    return await idempotency.run(handler, status=202)


@router.get(
    "/cases/{case_id}/inquiries", response_model=Page[InquiryRead], summary="A case's inquiries"
)
async def list_case_inquiries(
    case_id: int,
    session: Session,
    principal: CourtStaff,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[InquiryRead]:
    """Every inquiry of the case, newest first, so an officer sees what was asked and when."""
    found, next_cursor = await inquiries.list_case_inquiries(
        session, principal, case_id, limit=limit, cursor=cursor
    )
    return Page[InquiryRead](
        items=[views.inquiry_read(i, p) for i, p in found], next_cursor=next_cursor
    )


@router.get("/inquiries/{inquiry_id}", response_model=InquiryRead, summary="Inquiry progress")
async def get_inquiry(inquiry_id: int, session: Session, principal: CourtStaff) -> InquiryRead:
    """Status and one entry per registry (status, error, assets found)."""
    inquiry, progress = await service.get_inquiry(session, principal, inquiry_id)
    return views.inquiry_read(inquiry, progress)


@router.get("/cases/{case_id}/assets", response_model=Page[AssetRead], summary="Case assets")
async def list_assets(
    case_id: int,
    session: Session,
    principal: CourtStaff,
    status: Annotated[str | None, Query(pattern="^(present|gone|sold)$")] = None,
    kind: AssetKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Page[AssetRead]:
    """What the registries reported for the case's respondents, with each asset's freeze."""
    found, next_cursor = await service.list_case_assets(
        session, principal, case_id, status=status, kind=kind, limit=limit, cursor=cursor
    )
    return Page[AssetRead](
        items=[views.asset_read(a, f) for a, f in found], next_cursor=next_cursor
    )


@router.get("/assets/{asset_id}", response_model=AssetRead, summary="Read an asset")
async def get_asset(asset_id: int, session: Session, principal: CourtStaff) -> AssetRead:
    asset, freeze = await service.get_asset_for(session, principal, asset_id)
    return views.asset_read(asset, freeze)


@router.post(
    "/assets/{asset_id}/freeze", status_code=201, response_model=FreezeRead, summary="Freeze"
)
async def freeze_asset(
    asset_id: int,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
    body: FreezeCreate | None = None,
) -> JSONResponse:
    """Freeze within outstanding + fee (查封 19); the registry may freeze less, queue or refuse."""
    amount = body.amount if body else None

    async def handler() -> FreezeRead:
        freeze = await service.freeze_asset(session, principal, asset_id, amount=amount)
        return views.freeze_read(freeze)

    return await idempotency.run(handler, status=201)


@router.get("/freezes", response_model=Page[FreezeRead], summary="List freezes")
async def list_freezes(
    session: Session,
    principal: CourtStaff,
    case_id: int | None = None,
    status: str | None = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Page[FreezeRead]:
    """Freezes of the caller's court; ``expiring_within_days=30`` lists those to renew."""
    found, next_cursor = await service.list_freezes(
        session,
        principal,
        case_id=case_id,
        status=status,
        expiring_within_days=expiring_within_days,
        limit=limit,
        cursor=cursor,
    )
    return Page[FreezeRead](items=[views.freeze_read(f) for f in found], next_cursor=next_cursor)


@router.get("/freezes/{freeze_id}", response_model=FreezeRead, summary="Read a freeze")
async def get_freeze(freeze_id: int, session: Session, principal: CourtStaff) -> FreezeRead:
    return views.freeze_read(await service.get_freeze_for(session, principal, freeze_id))


@router.post("/freezes/{freeze_id}/renew", response_model=FreezeRead, summary="Renew (续行)")
async def renew_freeze(
    freeze_id: int,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
    body: FreezeRenew | None = None,
) -> JSONResponse:
    """Before expiry only; each renewal at most the legal maximum (民诉解释 485)."""
    until = body.until if body else None

    async def handler() -> FreezeRead:
        freeze = await service.renew_freeze(session, principal, freeze_id, until=until)
        return views.freeze_read(freeze)

    return await idempotency.run(handler, status=200)


@router.post("/freezes/{freeze_id}/release", response_model=FreezeRead, summary="Release")
async def release_freeze(
    freeze_id: int,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
    body: FreezeRelease | None = None,
) -> JSONResponse:
    """Lift the freeze; the earliest queued freeze at the registry takes effect (查封 26)."""
    reason = body.reason if body else None

    async def handler() -> FreezeRead:
        freeze = await service.release_freeze(session, principal, freeze_id, reason=reason)
        return views.freeze_read(freeze)

    return await idempotency.run(handler, status=200)


@router.post("/freezes/{freeze_id}/deduct", response_model=FreezeRead, summary="Deduct")
async def deduct_freeze(
    freeze_id: int,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
    body: FreezeDeduct | None = None,
) -> JSONResponse:
    """Deposits only: move frozen money to the court; it becomes a case payment."""
    amount = body.amount if body else None

    async def handler() -> FreezeRead:
        freeze = await service.deduct_freeze(session, principal, freeze_id, amount=amount)
        return views.freeze_read(freeze)

    return await idempotency.run(handler, status=200)


@router.post("/sweeps", status_code=202, response_model=SweepAccepted, summary="Sweep now")
async def start_sweep(
    session: Session, principal: Admin, idempotency: IdempotencyKey
) -> JSONResponse:
    """Start today's sweep now; if it already exists, answer with it (one run per date)."""

    async def handler() -> SweepAccepted:
        run, _ = await sweep.start_sweep(session, trigger=f"admin:{principal.name}")
        return SweepAccepted(id=run.id)

    return await idempotency.run(handler, status=202)


@router.get("/sweeps", response_model=Page[SweepRead], summary="List sweep runs")
async def list_sweeps(
    session: Session,
    principal: Admin,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> Page[SweepRead]:
    found, next_cursor = await sweep.list_sweeps(session, limit=limit, cursor=cursor)
    return Page[SweepRead](items=[views.sweep_read(s) for s in found], next_cursor=next_cursor)


@router.get("/sweeps/{sweep_id}", response_model=SweepRead, summary="Read a sweep run")
async def get_sweep(sweep_id: int, session: Session, principal: Admin) -> SweepRead:
    return views.sweep_read(await sweep.get_sweep(session, sweep_id))
