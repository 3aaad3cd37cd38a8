"""HTTP endpoints of the lists: listings (officers), the public view, and the credit tier
(feed, export, screening, webhooks), which is rate limited per token."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import or_, select
from starlette.background import BackgroundTask

from blacklist import feed, ratelimit, screening, service, webhooks
from blacklist.models import Listing, ListingPerson, WebhookSubscription
from blacklist.normalize import fold, normalize_name, upgrade_legacy_id
from blacklist.schemas import (
    FeedPage,
    ListingCorrection,
    ListingCreate,
    ListingRecord,
    ListingRemoval,
    ScreenRequest,
    ScreenResult,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
    public_record,
)
from enforcement.core import db
from enforcement.core.auth import Principal
from enforcement.core.deps import CreditSystem, OfficerOrAdmin, Session
from enforcement.core.idempotency import IdempotencyKey
from enforcement.core.identifiers import mask_id_number
from enforcement.core.schemas import ERROR_RESPONSES, Page, decode_cursor, encode_cursor
from enforcement.core.settings import get_settings

_RESPONSES: dict[int | str, dict[str, Any]] = {**ERROR_RESPONSES, 429: ERROR_RESPONSES[422]}
router = APIRouter(tags=["lists"], responses=_RESPONSES, route_class=ratelimit.RateLimitedRoute)
public_router = APIRouter(tags=["lists"], responses=ERROR_RESPONSES)


async def _credit_consumer(principal: CreditSystem) -> Principal:
    """A credit system within its per-minute allowance; admins (operators) are not limited."""
    if principal.role != "admin":
        await ratelimit.check(principal.key)
    return principal


CreditConsumer = Annotated[Principal, Depends(_credit_consumer)]


def _record(listing: Listing) -> ListingRecord:
    """The credit tier's full record."""
    return ListingRecord.model_validate_json(listing.record)


def _masked(record: str) -> ListingRecord:
    """The public tier's record: ID numbers masked as configured."""
    settings = get_settings()

    def mask(value: str) -> str:
        return mask_id_number(value, settings.id_mask_keep_prefix, settings.id_mask_keep_suffix)

    return ListingRecord.model_validate(public_record(json.loads(record), mask))


@router.post("/listings", status_code=201, response_model=ListingRecord, summary="List a debtor")
async def create_listing(
    body: ListingCreate, session: Session, principal: OfficerOrAdmin, idempotency: IdempotencyKey
) -> JSONResponse:
    """Put a respondent on the defaulter list or under consumption restriction; 422 names the
    rule that forbids it (``minor_not_listable``, ``not_a_respondent``, ``unknown_ground``…)."""

    async def handler() -> ListingRecord:
        return _record(await service.create_listing(session, principal, body))

    return await idempotency.run(handler)


@router.patch("/listings/{listing_id}", response_model=ListingRecord, summary="Correct a listing")
async def correct_listing(
    listing_id: int,
    body: ListingCorrection,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """Correct an inaccurate listing (失信 Art 12: within 3 working days): grounds, term,
    aggravation or an organization's related persons. The fields given replace the current
    ones; the rules of listing still apply (422 names the rule, ``no_change`` when nothing
    changes); ``version`` goes up and the feed and webhooks carry an ``updated`` event."""

    async def handler() -> ListingRecord:
        return _record(await service.correct_listing(session, principal, listing_id, body))

    return await idempotency.run(handler, status=200)


@router.post(
    "/listings/{listing_id}/removal", response_model=ListingRecord, summary="End a listing"
)
async def remove_listing(
    listing_id: int,
    body: ListingRemoval,
    session: Session,
    principal: OfficerOrAdmin,
    idempotency: IdempotencyKey,
) -> JSONResponse:
    """End a listing for a statutory reason (deletion is due within 3 working days)."""

    async def handler() -> ListingRecord:
        listing = await service.remove_listing(
            session, listing_id, body.reason, principal=principal, note=body.note
        )
        return _record(listing)

    return await idempotency.run(handler, status=200)


@public_router.get("/listings", response_model=Page[ListingRecord], summary="Public lists")
async def list_public(
    session: Session,
    q: Annotated[
        str | None, Query(max_length=100, description="name, ID number, credit code")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[ListingRecord]:
    """Current listings, newest first, ID numbers masked (no token needed). ``q`` also finds
    an organization's listing by the people it restricts with it (legal representative …)."""
    query = select(Listing.id, Listing.record).where(Listing.status == "active")
    if q:
        identifier = upgrade_legacy_id(fold(q))
        name = normalize_name(q)
        related = select(ListingPerson.listing_id).where(
            or_(ListingPerson.name_norm == name, ListingPerson.id_number == identifier)
        )
        query = query.where(
            or_(
                Listing.name_norm == name,
                Listing.id_number == identifier,
                Listing.credit_code == identifier,
                Listing.id.in_(related),
            )
        )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Listing.id < int(after.get("id", 0)))
    rows = (await session.execute(query.order_by(Listing.id.desc()).limit(limit + 1))).all()
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return Page[ListingRecord](
        items=[_masked(r.record) for r in rows[:limit]], next_cursor=next_cursor
    )


@public_router.get("/listings/{listing_id}", response_model=ListingRecord, summary="One listing")
async def get_public(listing_id: int, session: Session) -> ListingRecord:
    """One listing as the public sees it (masked ID numbers)."""
    return _masked((await service.get_listing(session, listing_id)).record)


@router.get("/feed", response_model=FeedPage, summary="Changes after a sequence number")
async def read_feed(
    session: Session,
    principal: CreditConsumer,
    after: Annotated[
        str | None, Query(description="the `next` of the previous page; 0 = start")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Every change once, in commit order. A cursor that is garbage is 422 ``invalid_cursor``;
    one ahead of the head is 409 ``cursor_ahead``."""
    start = feed.parse_cursor(after)
    rows, next_seq = await feed.read_changes(session, start, limit)
    await screening.log_read(
        session,
        principal,
        "feed",
        f"after={start}&limit={limit}",
        {"events": len(rows), "next": next_seq},
    )
    return Response(feed.page_json(rows, next_seq), media_type="application/json")


@router.get(
    "/export",
    summary="Every current listing (NDJSON)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "one record a line"}},
)
async def export(session: Session, principal: CreditConsumer) -> StreamingResponse:
    """Streamed NDJSON from one snapshot; header ``X-Feed-Seq`` is the feed position it is
    consistent with: follow ``/feed?after=X-Feed-Seq`` afterwards."""
    snapshot = await feed.ExportSnapshot.open(db.get_engine())
    await screening.log_read(session, principal, "export", "export", {"seq": snapshot.seq})
    return StreamingResponse(
        snapshot.lines(),
        media_type="application/x-ndjson",
        headers={"X-Feed-Seq": str(snapshot.seq)},
        background=BackgroundTask(snapshot.close),
    )


@router.post("/screen", response_model=ScreenResult, summary="Screen a subject")
async def screen(body: ScreenRequest, session: Session, principal: CreditConsumer) -> Response:
    """Identifiers decide whether the subject is listed or restricted (also as the legal
    representative, principal, person directly responsible or actual controller of a listed
    organization); names only nominate. The hot path: the answer is built from stored
    records without re-validation."""
    answer = await screening.screen(session, principal, body)
    return Response(answer, media_type="application/json")


def _webhook_read(subscription: WebhookSubscription) -> WebhookRead:
    """A subscription without its secret."""
    return WebhookRead.model_validate(subscription)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Subscribe")
async def create_webhook(
    body: WebhookCreate, session: Session, principal: CreditConsumer, idempotency: IdempotencyKey
) -> JSONResponse:
    """Deliveries of every feed event after now; the secret is shown only here."""

    async def handler() -> WebhookCreated:
        subscription = await webhooks.create_subscription(
            session, principal, body.url, list(body.types) if body.types else None, body.payload
        )
        return WebhookCreated(
            **_webhook_read(subscription).model_dump(), secret=subscription.secret
        )

    return await idempotency.run(handler)


@router.get("/webhooks", response_model=list[WebhookRead], summary="Subscriptions")
async def list_webhooks(session: Session, principal: CreditConsumer) -> list[WebhookRead]:
    """The caller's subscriptions (all of them for admins)."""
    return [_webhook_read(s) for s in await webhooks.list_subscriptions(session, principal)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookRead, summary="A subscription")
async def get_webhook(webhook_id: int, session: Session, principal: CreditConsumer) -> WebhookRead:
    """One subscription and how far it has been served."""
    return _webhook_read(await webhooks.get_subscription(session, principal, webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Unsubscribe")
async def delete_webhook(webhook_id: int, session: Session, principal: CreditConsumer) -> Response:
    """Stop deliveries and forget the subscription."""
    await webhooks.delete_subscription(session, principal, webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/enable", response_model=WebhookRead, summary="Re-enable")
async def enable_webhook(
    webhook_id: int, session: Session, principal: CreditConsumer, idempotency: IdempotencyKey
) -> JSONResponse:
    """Resume a disabled subscription from the last event it received."""

    async def handler() -> WebhookRead:
        return _webhook_read(await webhooks.enable_subscription(session, principal, webhook_id))

    return await idempotency.run(handler, status=200)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[WebhookDeliveryRead],
    summary="Delivery log",
)
async def list_deliveries(
    webhook_id: int, session: Session, principal: CreditConsumer
) -> list[WebhookDeliveryRead]:
    """The newest delivery attempts, for the consumer's own debugging."""
    await webhooks.get_subscription(session, principal, webhook_id)
    rows = await webhooks.deliveries(session, webhook_id)
    return [WebhookDeliveryRead.model_validate(r) for r in rows]
