"""Webhook subscriptions and their delivery, per the Standard Webhooks specification.

Each subscription is served in ``seq`` order from its own ``delivered_seq``: a failing
receiver blocks only its own subscription, is retried with backoff (seconds to hours) by
deferred jobs, and is disabled after a long run of failures; enabling it resumes where it
stopped. A lease on the subscription row keeps two workers from serving it at once; after
releasing the lease the worker looks again, so an event that arrived meanwhile is not left
waiting. The ``webhook-id`` is derived from ``seq``, so it is stable across retries.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from blacklist import feed
from blacklist.errors import InvalidWebhookUrl, WebhookNotFound
from blacklist.models import ListingChange, WebhookDelivery, WebhookSubscription
from enforcement.core import audit, clock, db, jobs
from enforcement.core.auth import Principal

BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200)
"""Delay before each retry; one failure more than this list disables the subscription."""
LEASE = dt.timedelta(minutes=5)
BATCH = 100
TIMEOUT_SECONDS = 10.0


def validate_url(url: str) -> str:
    """Absolute http(s) URLs only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhookUrl(details={"url": url[:200]})
    return url.strip()


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64 (the Standard Webhooks secret form)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_subscription(
    session: AsyncSession, principal: Principal, url: str, types: list[str] | None, payload: str
) -> WebhookSubscription:
    """Subscribe from the current head on (bootstrap with the export, then the feed)."""
    subscription = WebhookSubscription(
        token_id=principal.token_id,
        url=validate_url(url),
        types=sorted(set(types)) if types else None,
        payload=payload,
        secret=new_secret(),
        status="active",
        delivered_seq=await feed.head(session),
        failures=0,
        created_at=clock.now(),
    )
    session.add(subscription)
    await session.flush()
    audit.record(
        session,
        action="webhook.created",
        entity_type="webhook",
        entity_id=subscription.id,
        after={
            "url": subscription.url,
            "types": subscription.types,
            "from_seq": subscription.delivered_seq,
        },
    )
    return subscription


async def get_subscription(
    session: AsyncSession, principal: Principal, subscription_id: int
) -> WebhookSubscription:
    """A subscription of the caller's token (admins see all); others' are 404, not 403."""
    subscription = await session.get(WebhookSubscription, subscription_id, populate_existing=True)
    if subscription is None or (
        principal.role != "admin" and subscription.token_id != principal.token_id
    ):
        raise WebhookNotFound(details={"webhook_id": subscription_id})
    return subscription


async def list_subscriptions(
    session: AsyncSession, principal: Principal
) -> list[WebhookSubscription]:
    """The caller's subscriptions."""
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if principal.role != "admin":
        query = query.where(WebhookSubscription.token_id == principal.token_id)
    return list(await session.scalars(query))


async def delete_subscription(
    session: AsyncSession, principal: Principal, subscription_id: int
) -> None:
    """Stop and forget a subscription (its delivery log goes with it)."""
    subscription = await get_subscription(session, principal, subscription_id)
    await session.delete(subscription)
    audit.record(
        session, action="webhook.deleted", entity_type="webhook", entity_id=subscription_id
    )


async def enable_subscription(
    session: AsyncSession, principal: Principal, subscription_id: int
) -> WebhookSubscription:
    """Re-enable after automatic disabling; delivery resumes from ``delivered_seq``."""
    subscription = await get_subscription(session, principal, subscription_id)
    before = {"status": subscription.status, "failures": subscription.failures}
    subscription.status = "active"
    subscription.failures = 0
    subscription.next_attempt_at = None
    subscription.disabled_at = None
    subscription.lease_until = None
    await session.flush()
    stamp = int(clock.now().timestamp() * 1000)
    jobs.enqueue(
        session,
        feed.DELIVER_JOB,
        subscription.id,
        job_id=f"webhook:{subscription.id}:enable:{stamp}",
    )
    audit.record(
        session,
        action="webhook.enabled",
        entity_type="webhook",
        entity_id=subscription.id,
        before=before,
        after={"status": "active", "resume_after_seq": subscription.delivered_seq},
    )
    return subscription


async def retry_now(subscription_id: int | None = None) -> list[tuple[int, int]]:
    """Operators: serve active subscriptions now, without waiting out their backoff; returns
    (subscription id, events delivered). The failure count stays until a delivery succeeds."""
    async with db.unit_of_work() as session:
        query = select(WebhookSubscription.id).where(WebhookSubscription.status == "active")
        if subscription_id is not None:
            query = query.where(WebhookSubscription.id == subscription_id)
        ids = list(await session.scalars(query.order_by(WebhookSubscription.id)))
        if ids:
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id.in_(ids))
                .values(next_attempt_at=None)
            )
            audit.record(
                session,
                action="webhook.retried",
                entity_type="webhook",
                entity_id=ids[0] if len(ids) == 1 else "*",
                after={"subscriptions": ids},
            )
    return [(i, await deliver(i)) for i in ids]


async def deliveries(
    session: AsyncSession, subscription_id: int, limit: int = 100
) -> list[WebhookDelivery]:
    """The newest delivery attempts of a subscription."""
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(rows)


def message(change: Any, payload: str) -> tuple[str, bytes]:
    """The ``webhook-id`` and the exact body bytes for one feed change."""
    if payload == "thin":
        data = {
            "seq": change.seq,
            "type": change.type,
            "at": change.at.isoformat(),
            "listing_id": change.listing_id,
            "version": change.version,
        }
        body = json.dumps(
            {"type": f"listing.{change.type}", "timestamp": change.at.isoformat(), "data": data},
            separators=(",", ":"),
        )
    else:
        event = feed.event_json(change.seq, change.type, change.at, change.reason, change.record)
        stamp = change.at.isoformat()
        body = f'{{"type":"listing.{change.type}","timestamp":"{stamp}","data":{event}}}'
    return f"msg_{change.seq}", body.encode()


def signed_headers(secret: str, message_id: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers. The timestamp is the wall clock: receivers check it
    against theirs for replay protection, so the service clock (time travel) must not leak."""
    sent_at = dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(message_id, sent_at, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def _acquire(subscription_id: int, owner: str) -> WebhookSubscription | None:
    """Take the lease if the subscription is active, due and not served elsewhere."""
    now = clock.now()
    async with db.unit_of_work() as session:
        result = await session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.status == "active",
                or_(
                    WebhookSubscription.lease_until.is_(None), WebhookSubscription.lease_until < now
                ),
                or_(
                    WebhookSubscription.next_attempt_at.is_(None),
                    WebhookSubscription.next_attempt_at <= now,
                ),
            )
            .values(lease_owner=owner, lease_until=now + LEASE)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await session.get(WebhookSubscription, subscription_id)


async def _release(subscription_id: int, owner: str) -> bool:
    """Drop the lease; True if more events wait and the subscription may go on now."""
    async with db.unit_of_work() as session:
        await session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id, WebhookSubscription.lease_owner == owner
            )
            .values(lease_owner=None, lease_until=None)
        )
    async with db.unit_of_work() as session:
        subscription = await session.get(WebhookSubscription, subscription_id)
        if subscription is None or subscription.status != "active" or subscription.failures:
            return False
        return await feed.head(session) > subscription.delivered_seq


async def deliver(subscription_id: int) -> int:
    """Serve a subscription until it is caught up or a delivery fails; returns events sent."""
    owner = secrets.token_hex(8)
    sent = 0
    while True:
        subscription = await _acquire(subscription_id, owner)
        if subscription is None:
            return sent
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                sent += await _serve(client, subscription)
        finally:
            more = await _release(subscription_id, owner)
        if not more:
            return sent


async def _serve(client: httpx.AsyncClient, subscription: WebhookSubscription) -> int:
    """Send pending events in order; stop at the first failure (it schedules the retry)."""
    sent = 0
    after = subscription.delivered_seq
    while True:
        async with db.unit_of_work() as session:
            changes = (
                (
                    await session.execute(
                        select(ListingChange)
                        .where(ListingChange.seq > after)
                        .order_by(ListingChange.seq)
                        .limit(BATCH)
                    )
                )
                .scalars()
                .all()
            )
        if not changes:
            return sent
        for change in changes:
            if subscription.types is None or change.type in subscription.types:
                if not await _send_one(client, subscription, change):
                    return sent
                sent += 1
            after = change.seq
            subscription.delivered_seq = after
        async with db.unit_of_work() as session:  # skipped types advance the cursor too
            await _advance(session, subscription.id, after)


async def _advance(session: AsyncSession, subscription_id: int, seq: int) -> None:
    """Move the cursor forward (never back) and clear the failure run."""
    await session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.delivered_seq < seq)
        .values(delivered_seq=seq, failures=0, next_attempt_at=None, last_error=None)
    )


async def _send_one(
    client: httpx.AsyncClient, subscription: WebhookSubscription, change: Any
) -> bool:
    """POST one event; log the attempt; on failure schedule the retry or disable."""
    message_id, body = message(change, subscription.payload)
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        response = await client.post(
            subscription.url,
            content=body,
            headers=signed_headers(subscription.secret, message_id, body),
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    ok = error is None
    async with db.unit_of_work() as session:
        current = await session.get(WebhookSubscription, subscription.id)
        if current is None:
            return False
        session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                seq=change.seq,
                message_id=message_id,
                attempt=current.failures + 1,
                ok=ok,
                status_code=status_code,
                error=error,
                duration_ms=int((time.perf_counter() - started) * 1000),
                at=clock.now(),
            )
        )
        if ok:
            await _advance(session, subscription.id, change.seq)
        else:
            _fail(session, current, change.seq, error or "failed")
    return ok


def _fail(session: AsyncSession, subscription: WebhookSubscription, seq: int, error: str) -> None:
    """Count a failure: schedule the next try with backoff, or disable."""
    subscription.failures += 1
    subscription.last_error = error
    if subscription.failures > len(BACKOFF_SECONDS):
        subscription.status = "disabled"
        subscription.disabled_at = clock.now()
        subscription.next_attempt_at = None
        audit.record(
            session,
            action="webhook.disabled",
            entity_type="webhook",
            entity_id=subscription.id,
            after={"failures": subscription.failures, "stopped_before_seq": seq, "error": error},
        )
        return
    due = clock.now() + dt.timedelta(seconds=BACKOFF_SECONDS[subscription.failures - 1])
    subscription.next_attempt_at = due
    jobs.enqueue(
        session,
        feed.DELIVER_JOB,
        subscription.id,
        job_id=f"webhook:{subscription.id}:retry:{seq}:{int(due.timestamp())}",
        defer_until=due,
    )
