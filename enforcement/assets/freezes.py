"""Freeze use cases: freeze an asset under the over-seizure cap, renew, release, deduct, expire;
follow queued freezes at the registry; release what a case no longer needs (查封 19).

Every registry order carries an idempotency key derived from our own rows (the asset and the
ordinal of our freeze on it, the amount already deducted), so an HTTP retry, a repeated POST
or a request that failed after the registry acted never freezes or deducts twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import FreezeReceipt, FreezeRequest
from connectors.errors import ConnectorError, TransientError
from enforcement.assets import registries, rules
from enforcement.assets.errors import (
    AlreadyFrozen,
    AssetNotFound,
    AssetNotPresent,
    CaseNotOpen,
    DeductionTooLarge,
    FreezeCapExceeded,
    FreezeExpired,
    FreezeNotActive,
    FreezeNotFound,
    FreezeReleased,
    NotADeposit,
    RegistryNotEnabled,
    RegistryUnavailable,
    RenewalNotLonger,
)
from enforcement.assets.models import Asset, Freeze
from enforcement.cases import service as cases
from enforcement.cases.models import Case
from enforcement.core import audit, clock, db, jobs
from enforcement.core.auth import Principal, ensure_court
from enforcement.core.schemas import decode_cursor, encode_cursor

IN_FORCE = ("active", "queued")
SYNC_JOB = "assets.sync_freeze_status"
CASE_RELEASE_JOB = "assets.release_case_freezes"
EXCESS_JOB = "assets.release_excess"
RETRY_SECONDS = 600
"""A registry that did not answer is asked again after this many seconds (job retry)."""
KEEPS_FREEZES = frozenset({"terminated_this_round"})
"""Close modes after which the freezes stay: 终本 keeps seizures in force while the debtor
is re-queried every 6 months (终本 9); every other end of the case releases them."""

log = logging.getLogger(__name__)
_REFUSALS = {
    "released": FreezeReleased,
    "expired": FreezeExpired,
    "rejected": FreezeNotActive,
}


def snapshot(freeze: Freeze) -> dict[str, Any]:
    """The audited view of a freeze."""
    return {
        "status": freeze.status,
        "requested": freeze.requested,
        "frozen": freeze.frozen,
        "deducted": freeze.deducted,
        "expires_on": freeze.expires_on,
        "registry_reference": freeze.registry_reference,
    }


async def get_asset(session: AsyncSession, asset_id: int, *, for_update: bool = False) -> Asset:
    """An asset by id; 404 ``asset_not_found``."""
    query = select(Asset).where(Asset.id == asset_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    asset = (await session.execute(query)).scalar_one_or_none()
    if asset is None:
        raise AssetNotFound(details={"asset_id": asset_id})
    return asset


async def get_freeze(session: AsyncSession, freeze_id: int, *, for_update: bool = False) -> Freeze:
    """A freeze by id; 404 ``freeze_not_found``."""
    query = select(Freeze).where(Freeze.id == freeze_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    freeze = (await session.execute(query)).scalar_one_or_none()
    if freeze is None:
        raise FreezeNotFound(details={"freeze_id": freeze_id})
    return freeze


async def committed_weight(session: AsyncSession, case_id: int) -> int:
    """What the case's active and queued freezes count against the cap (``rules.weight``)."""
    rows = await session.execute(
        select(Asset.kind, Freeze.status, Freeze.frozen, Freeze.requested, Asset.value)
        .join(Asset, Asset.id == Freeze.asset_id)
        .where(Freeze.case_id == case_id, Freeze.status.in_(IN_FORCE))
    )
    return sum(
        rules.weight(r.kind, status=r.status, frozen=r.frozen, requested=r.requested, value=r.value)
        for r in rows
    )


async def freeze_asset(
    session: AsyncSession, principal: Principal | None, asset_id: int, *, amount: int | None = None
) -> Freeze:
    """Freeze an asset of an open case within the cap; the registry may queue or reject it."""
    asset = await get_asset(session, asset_id)
    case = await cases.get_case(session, asset.case_id, for_update=True)
    if principal is not None:
        ensure_court(principal, case.court_code)
    if case.status != "open":
        raise CaseNotOpen(details={"status": case.status})
    if asset.status != "present":
        raise AssetNotPresent(details={"status": asset.status})
    held = await session.scalar(
        select(func.count())
        .select_from(Freeze)
        .where(Freeze.asset_id == asset.id, Freeze.status.in_(IN_FORCE))
    )
    if held:
        raise AlreadyFrozen(details={"asset_id": asset.id})
    if amount is not None and asset.kind not in rules.DIVISIBLE_KINDS:
        amount = None  # a vehicle or a stake is frozen whole
    owed = case.outstanding + case.fee_outstanding
    decision = rules.cap_decision(
        asset.kind,
        owed=owed,
        committed=await committed_weight(session, case.id),
        value=asset.value,
        amount=amount,
    )
    if not decision.allowed:
        raise FreezeCapExceeded(
            details={"owed": owed, "remaining": decision.remaining, "asked": amount}
        )
    ordinal = 1 + int(
        await session.scalar(
            select(func.count()).select_from(Freeze).where(Freeze.asset_id == asset.id)
        )
        or 0
    )
    today = clock.today()
    key = f"enf-freeze-a{asset.id}-{ordinal}"
    request = FreezeRequest(
        registry_ref=asset.registry_ref,
        amount=decision.requested if asset.kind in rules.DIVISIBLE_KINDS else None,
        court_code=case.court_code,
        case_number=case.case_number,
        order_number=f"FRZ-{case.id}-{asset.id}-{ordinal}",
        until=rules.expiry_date(asset.kind, today),
        idempotency_key=key,
    )
    connector = registries.connector(asset.registry_name)
    receipt = await registries.call(asset.registry_name, connector.freeze(request))
    now = clock.now()
    freeze = Freeze(
        asset_id=asset.id,
        case_id=case.id,
        status=receipt.status,
        requested=decision.requested,
        frozen=receipt.frozen if receipt.status == "active" else 0,
        deducted=0,
        starts_on=today,
        expires_on=receipt.until or request.until,
        order_number=request.order_number,
        registry_reference=receipt.registry_freeze_id,
        idempotency_key=key,
        reason=receipt.reason,
        created_at=now,
        updated_at=now,
        renewals=0,
    )
    session.add(freeze)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent request froze this asset with the same key
        raise AlreadyFrozen(details={"asset_id": asset.id}) from exc
    audit.record(
        session,
        action="freeze.placed",
        entity_type="freeze",
        entity_id=freeze.id,
        after={**snapshot(freeze), "asset_id": asset.id, "case_id": case.id},
    )
    return freeze


async def _load_for_change(
    session: AsyncSession, principal: Principal | None, freeze_id: int
) -> tuple[Freeze, Asset, Case]:
    freeze = await get_freeze(session, freeze_id, for_update=True)
    asset = await get_asset(session, freeze.asset_id)
    case = await cases.get_case(session, freeze.case_id)
    if principal is not None:
        ensure_court(principal, case.court_code)
    return freeze, asset, case


def _refuse_unless(freeze: Freeze, allowed: tuple[str, ...]) -> None:
    if freeze.status not in allowed:
        error = _REFUSALS.get(freeze.status, FreezeNotActive)
        raise error(details={"freeze_id": freeze.id, "status": freeze.status})


async def renew_freeze(
    session: AsyncSession,
    principal: Principal | None,
    freeze_id: int,
    *,
    until: dt.date | None = None,
) -> Freeze:
    """Continue a freeze (续行) before it lapses, for at most the legal maximum again."""
    freeze, asset, _ = await _load_for_change(session, principal, freeze_id)
    _refuse_unless(freeze, IN_FORCE)
    code, new_expiry = rules.renewal_refusal(asset.kind, freeze.expires_on, clock.today(), until)
    if code == "freeze_expired":
        raise FreezeExpired(details={"expires_on": str(freeze.expires_on)})
    if code or new_expiry is None:
        raise RenewalNotLonger(
            details={"expires_on": str(freeze.expires_on), "until": until and until.isoformat()}
        )
    before = snapshot(freeze)
    if freeze.registry_reference:  # the registry's expiry is the one that counts (查封 27)
        connector = registries.connector(asset.registry_name)
        receipt = await registries.call(
            asset.registry_name,
            connector.renew(
                freeze.registry_reference,
                new_expiry,
                f"{freeze.idempotency_key}-renew-{freeze.renewals + 1}",
            ),
        )
        new_expiry = receipt.until or new_expiry
    freeze.expires_on = new_expiry
    freeze.renewals += 1
    freeze.warned_on = None
    freeze.updated_at = clock.now()
    await session.flush()
    audit.record(
        session,
        action="freeze.renewed",
        entity_type="freeze",
        entity_id=freeze.id,
        before=before,
        after={**snapshot(freeze), "renewals": freeze.renewals},
    )
    return freeze


async def end_at_registry(
    session: AsyncSession, freeze: Freeze, asset: Asset, *, status: str, reason: str
) -> None:
    """Release a freeze at the registry and here; activate our freeze it promotes, if any."""
    before = snapshot(freeze)
    promoted_ref: str | None = None
    if freeze.registry_reference:
        connector = registries.connector(asset.registry_name)
        receipt = await registries.call(
            asset.registry_name, connector.release(freeze.registry_reference)
        )
        promoted_ref = receipt.promoted_freeze_id
    now = clock.now()
    freeze.status, freeze.reason = status, reason
    freeze.released_at = freeze.updated_at = now
    await session.flush()
    audit.record(
        session,
        action=f"freeze.{status}",
        entity_type="freeze",
        entity_id=freeze.id,
        before=before,
        after={**snapshot(freeze), "reason": reason, "promoted": promoted_ref},
    )
    if promoted_ref:
        await _activate_promoted(session, asset, promoted_ref)


async def _activate_promoted(session: AsyncSession, asset: Asset, registry_freeze_id: str) -> None:
    """A queued freeze of ours (another case's) took effect at the registry (查封 26).

    The registry is asked what it now holds (amount, expiry); if it cannot say, the amount
    is estimated from what was asked and the asset's value, and tomorrow's status poll has
    nothing left to do for it.
    """
    rows = await session.execute(
        select(Freeze, Asset)
        .join(Asset, Asset.id == Freeze.asset_id)
        .where(
            Freeze.registry_reference == registry_freeze_id,
            Freeze.status == "queued",
            Asset.registry_name == asset.registry_name,
        )
    )
    for queued, queued_asset in rows.all():
        try:
            connector = registries.connector(queued_asset.registry_name)
            receipt: FreezeReceipt | None = await connector.freeze_status(registry_freeze_id)
        except (ConnectorError, RegistryNotEnabled):
            receipt = None
        if receipt is not None and receipt.status == "active":
            await apply_registry_status(session, queued, queued_asset, receipt)
            continue
        before = snapshot(queued)
        queued.status = "active"
        queued.frozen = (
            min(queued.requested, queued_asset.value)
            if queued_asset.kind in rules.DIVISIBLE_KINDS
            else queued_asset.value
        )
        queued.updated_at = clock.now()
        audit.record(
            session,
            action="freeze.activated",
            entity_type="freeze",
            entity_id=queued.id,
            before=before,
            after=snapshot(queued),
        )
    await session.flush()


async def release_freeze(
    session: AsyncSession, principal: Principal | None, freeze_id: int, *, reason: str | None = None
) -> Freeze:
    """Lift a freeze at the registry; the earliest queued freeze there takes effect."""
    freeze, asset, _ = await _load_for_change(session, principal, freeze_id)
    _refuse_unless(freeze, IN_FORCE)
    await end_at_registry(session, freeze, asset, status="released", reason=reason or "released")
    return freeze


async def deduct_freeze(
    session: AsyncSession, principal: Principal | None, freeze_id: int, *, amount: int | None = None
) -> Freeze:
    """Move frozen deposit money to the court account; it becomes a case payment."""
    freeze, asset, case = await _load_for_change(session, principal, freeze_id)
    if asset.kind != "deposit":
        raise NotADeposit(details={"kind": asset.kind})
    _refuse_unless(freeze, ("active",))
    if case.status != "open":
        raise CaseNotOpen(details={"status": case.status})
    owed = case.outstanding + case.fee_outstanding
    amount = amount if amount is not None else min(freeze.frozen, owed)
    if amount <= 0 or amount > freeze.frozen or amount > owed:
        raise DeductionTooLarge(details={"frozen": freeze.frozen, "owed": owed, "amount": amount})
    before = snapshot(freeze)
    connector = registries.connector(asset.registry_name)
    receipt = await registries.call(
        asset.registry_name,
        connector.deduct(
            freeze.registry_reference or "",
            amount,
            f"{freeze.idempotency_key}-deduct-{freeze.deducted}",
        ),
    )
    freeze.deducted += receipt.deducted
    freeze.frozen = receipt.remaining_frozen
    freeze.updated_at = clock.now()
    asset.value = max(0, asset.value - receipt.deducted)
    if freeze.frozen == 0:
        freeze.status, freeze.reason = "released", "fully deducted"
        freeze.released_at = freeze.updated_at
    await session.flush()
    audit.record(
        session,
        action="freeze.deducted",
        entity_type="freeze",
        entity_id=freeze.id,
        before=before,
        after={**snapshot(freeze), "amount": receipt.deducted},
    )
    await cases.record_payment(
        session,
        case.id,
        receipt.deducted,
        source="deduction",
        note=f"deducted from {asset.description}",
        reference=f"freeze:{freeze.id}:{freeze.registry_reference}",
    )
    return freeze


async def list_freezes(
    session: AsyncSession,
    principal: Principal,
    *,
    case_id: int | None = None,
    status: str | None = None,
    expiring_within_days: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Freeze], str | None]:
    """Freezes of the caller's court (all for admins), soonest expiry first when filtering."""
    query = (
        select(Freeze).join(Case, Case.id == Freeze.case_id).order_by(Freeze.id).limit(limit + 1)
    )
    if principal.role != "admin":
        query = query.where(Case.court_code == principal.court_code)
    if case_id is not None:
        query = query.where(Freeze.case_id == case_id)
    if status:
        query = query.where(Freeze.status == status)
    if expiring_within_days is not None:
        today = clock.today()
        horizon = today + dt.timedelta(days=expiring_within_days)
        query = query.where(
            Freeze.status.in_(IN_FORCE), Freeze.expires_on >= today, Freeze.expires_on <= horizon
        )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Freeze.id > int(after.get("id", 0)))
    found = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": found[limit - 1].id}) if len(found) > limit else None
    return found[:limit], next_cursor


async def check_expiries(session: AsyncSession) -> tuple[int, int]:
    """Warn once about freezes ending within 30 days; mark lapsed ones expired (查封 27)."""
    today = clock.today()
    horizon = today + dt.timedelta(days=rules.EXPIRY_WARNING_DAYS)
    lapsed = (
        await session.execute(
            select(Freeze)
            .where(Freeze.status.in_(IN_FORCE), Freeze.expires_on < today)
            .with_for_update(skip_locked=True)
        )
    ).scalars()
    expired = 0
    for freeze in lapsed:
        before = snapshot(freeze)
        freeze.status, freeze.reason = "expired", "lapsed without renewal (查封 27)"
        freeze.updated_at = clock.now()
        audit.record(
            session,
            action="freeze.expired",
            entity_type="freeze",
            entity_id=freeze.id,
            before=before,
            after=snapshot(freeze),
        )
        expired += 1
    soon = (
        await session.execute(
            select(Freeze).where(
                Freeze.status == "active",
                Freeze.expires_on >= today,
                Freeze.expires_on <= horizon,
                Freeze.warned_on.is_(None),
            )
        )
    ).scalars()
    warned = 0
    for freeze in soon:
        freeze.warned_on = today
        audit.record(
            session,
            action="freeze.expiry_warning",
            entity_type="freeze",
            entity_id=freeze.id,
            after={"expires_on": freeze.expires_on, "case_id": freeze.case_id},
        )
        warned += 1
    await session.flush()
    await _enqueue_follow_ups(session, today)
    return warned, expired


async def _enqueue_follow_ups(session: AsyncSession, today: dt.date) -> None:
    """Ask the registries about our queued freezes (轮候: only they know when the earlier
    freeze ends, 查封 26) and re-check the cap of cases whose deposit freezes exceed what is
    owed after payments (查封 19); one job each per day (deterministic ids)."""
    queued = await session.scalars(
        select(Freeze.id).where(
            Freeze.status == "queued",
            Freeze.registry_reference.is_not(None),
            Freeze.expires_on >= today,
        )
    )
    for freeze_id in queued:
        jobs.enqueue(
            session, SYNC_JOB, freeze_id, job_id=f"assets:freeze-status:{freeze_id}:{today}"
        )
    for case_id in await over_seized_cases(session):
        jobs.enqueue(session, EXCESS_JOB, case_id, job_id=f"assets:excess:{case_id}:{today}")


async def over_seized_cases(session: AsyncSession) -> list[int]:
    """Open cases whose deposit freezes alone hold more than outstanding + fee outstanding."""
    rows = await session.execute(
        select(
            Freeze.case_id,
            Freeze.status,
            Freeze.frozen,
            Freeze.requested,
            Case.outstanding,
            Case.fee,
            Case.fee_paid,
        )
        .join(Asset, Asset.id == Freeze.asset_id)
        .join(Case, Case.id == Freeze.case_id)
        .where(
            Case.status == "open",
            Freeze.status.in_(IN_FORCE),
            Asset.kind.in_(sorted(rules.DIVISIBLE_KINDS)),
        )
    )
    held: dict[int, int] = {}
    owed: dict[int, int] = {}
    for r in rows:
        held[r.case_id] = held.get(r.case_id, 0) + (
            r.frozen if r.status == "active" else r.requested
        )
        owed[r.case_id] = r.outstanding + r.fee - r.fee_paid
    return sorted(case_id for case_id, amount in held.items() if amount > owed[case_id])


async def sync_freeze_status(freeze_id: int) -> str | None:
    """Job body: ask the registry about one queued freeze of ours and follow what it says.

    The network call runs between two short transactions; a registry that does not answer
    is asked again later (``jobs.Retry``), one that refuses is logged and left for tomorrow.
    """
    async with db.unit_of_work() as session:
        freeze = await session.get(Freeze, freeze_id)
        if freeze is None or freeze.status != "queued" or not freeze.registry_reference:
            return None
        asset = await get_asset(session, freeze.asset_id)
        registry, reference = asset.registry_name, freeze.registry_reference
    connector = registries.get_connectors().get(registry)
    if connector is None:
        return None
    try:
        receipt = await connector.freeze_status(reference)
    except TransientError as exc:
        raise jobs.Retry(defer=RETRY_SECONDS) from exc
    except ConnectorError as exc:
        log.warning("freeze %s: %s did not report it: %s", freeze_id, registry, exc)
        return None
    async with db.unit_of_work() as session:
        freeze = await get_freeze(session, freeze_id, for_update=True)
        if freeze.status == "queued":
            await apply_registry_status(
                session, freeze, await get_asset(session, asset.id), receipt
            )
        return freeze.status


async def apply_registry_status(
    session: AsyncSession, freeze: Freeze, asset: Asset, receipt: FreezeReceipt
) -> None:
    """Mirror the registry's view of a queued freeze: it took effect (with the amount and
    expiry the registry holds), or it ended there; then keep the case within the cap."""
    if receipt.status == "queued":
        return
    before = snapshot(freeze)
    now = clock.now()
    freeze.updated_at = now
    if receipt.status == "active":
        freeze.status, freeze.frozen = "active", receipt.frozen
        freeze.expires_on = receipt.until or freeze.expires_on
        freeze.reason, freeze.warned_on = (
            "took effect when the earlier freeze ended (查封 26)",
            None,
        )
    else:
        freeze.status, freeze.frozen = receipt.status, 0
        freeze.reason = f"{receipt.status} at the registry"
        freeze.released_at = now
    await session.flush()
    audit.record(
        session,
        action="freeze.activated" if freeze.status == "active" else f"freeze.{freeze.status}",
        entity_type="freeze",
        entity_id=freeze.id,
        before=before,
        after={**snapshot(freeze), "reason": freeze.reason, "asset_id": asset.id},
    )
    if freeze.status == "active":
        await release_excess(session, freeze.case_id)


async def release_excess(session: AsyncSession, case_id: int) -> int:
    """Over-seizure (查封 19): release deposit money frozen beyond outstanding + fee outstanding.

    Only divisible freezes are cut, and never below what is owed: queued ones first (they
    are not in force yet), then active ones newest first, in part when the registry allows
    (``reduce`` keeps the freeze's rank). Indivisible assets stay (the proviso of 查封 19).
    Returns the fen released.
    """
    case = await cases.get_case(session, case_id, for_update=True)
    if case.status != "open":
        return 0  # the end of the case releases everything (release_case_freezes)
    rows = (
        await session.execute(
            select(Freeze, Asset)
            .join(Asset, Asset.id == Freeze.asset_id)
            .where(
                Freeze.case_id == case_id,
                Freeze.status.in_(IN_FORCE),
                Asset.kind.in_(sorted(rules.DIVISIBLE_KINDS)),
            )
            .order_by(Freeze.id.desc())
            .execution_options(populate_existing=True)
        )
    ).all()

    def held(freeze: Freeze, asset: Asset) -> int:
        return rules.weight(
            asset.kind,
            status=freeze.status,
            frozen=freeze.frozen,
            requested=freeze.requested,
            value=asset.value,
        )

    excess = sum(held(f, a) for f, a in rows) - (case.outstanding + case.fee_outstanding)
    released = 0
    for freeze, asset in sorted(rows, key=lambda row: row[0].status != "queued"):
        if excess <= 0:
            break
        weight = held(freeze, asset)
        if weight <= excess:
            await end_at_registry(
                session, freeze, asset, status="released", reason="over-seizure (查封 19)"
            )
            cut = weight
        elif freeze.status == "active":
            cut = await _reduce(session, freeze, asset, excess)
        else:
            continue  # a queued freeze is cut when it takes effect
        excess -= cut
        released += cut
    return released


async def _reduce(session: AsyncSession, freeze: Freeze, asset: Asset, amount: int) -> int:
    """Release ``amount`` fen of an active deposit freeze at the registry and here."""
    before = snapshot(freeze)
    connector = registries.connector(asset.registry_name)
    receipt = await registries.call(
        asset.registry_name,
        connector.reduce(
            freeze.registry_reference or "",
            amount,
            f"{freeze.idempotency_key}-reduce-{freeze.frozen}-{amount}",
        ),
    )
    cut = freeze.frozen - receipt.frozen
    freeze.frozen = receipt.frozen
    freeze.updated_at = clock.now()
    await session.flush()
    audit.record(
        session,
        action="freeze.reduced",
        entity_type="freeze",
        entity_id=freeze.id,
        before=before,
        after={**snapshot(freeze), "released": cut, "reason": "over-seizure (查封 19)"},
    )
    return cut


async def release_case_freezes(case_id: int) -> int:
    """Job body: the case ended, so nothing is left to secure; release each of its freezes
    in force (deducted money and sold assets are already out), one transaction each.

    A registry that does not answer leaves its freeze for a job retry; the others go on.
    """
    async with db.unit_of_work() as session:
        case = await cases.get_case(session, case_id)
        if case.status == "open" or case.status in KEEPS_FREEZES:
            return 0
        reason = f"case {case.status}: nothing left to secure (查封 19)"
        ids = list(
            await session.scalars(
                select(Freeze.id)
                .where(Freeze.case_id == case_id, Freeze.status.in_(IN_FORCE))
                .order_by(Freeze.id)
            )
        )
    released = failed = 0
    for freeze_id in ids:
        try:
            async with db.unit_of_work() as session:
                freeze = await get_freeze(session, freeze_id, for_update=True)
                if freeze.status not in IN_FORCE:
                    continue
                asset = await get_asset(session, freeze.asset_id)
                await end_at_registry(session, freeze, asset, status="released", reason=reason)
                released += 1
        except RegistryUnavailable:
            failed += 1
    if failed:
        raise jobs.Retry(defer=RETRY_SECONDS)
    return released
