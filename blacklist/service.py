"""Listing use cases: list a debtor, end a listing, react to paid-off and closed cases, expire.

Services take the session, may flush, never commit. Every change bumps the listing's
``version``, rewrites its stored record and appends to the feed in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blacklist import feed, rules
from blacklist.errors import ListingAlreadyRemoved, ListingNotFound, ListingRefused
from blacklist.models import Listing
from blacklist.normalize import normalize_name
from blacklist.schemas import ListingCreate
from enforcement.assets.models import Freeze
from enforcement.cases import service as cases
from enforcement.cases.models import Case, Party
from enforcement.core import audit, clock, db
from enforcement.core.auth import Principal, ensure_court
from enforcement.core.identifiers import birth_date_of, sex_of


def _birth_date(party: Party) -> dt.date | None:
    """Stated birth date, else the one the ID number carries."""
    if party.birth_date is not None:
        return party.birth_date
    if party.kind == "person" and party.id_number and len(party.id_number) == 18:
        return birth_date_of(party.id_number)
    return None


def _base_record(case: Case, party: Party) -> dict[str, Any]:
    """The published fields that do not change (失信 Art 6)."""
    person = party.kind == "person" and bool(party.id_number)
    birth = _birth_date(party)
    return {
        "subject_kind": party.kind,
        "name": party.name,
        "id_number": party.id_number,
        "credit_code": party.credit_code,
        "sex": sex_of(party.id_number) if person and party.id_number else None,
        "birth_year": birth.year if birth else None,
        "legal_representative": party.legal_representative,
        "legal_representative_id_number": party.legal_representative_id_number,
        "case_id": case.id,
        "case_number": case.case_number,
        "court_code": case.court_code,
        "filed_on": case.filed_on.isoformat(),
        "basis": case.basis,
    }


def _refresh_record(listing: Listing, base: dict[str, Any] | None = None) -> None:
    """Rewrite the stored record from the listing's current state."""
    record = dict(base) if base is not None else json.loads(listing.record)
    record.update(
        {
            "id": listing.id,
            "version": listing.version,
            "kind": listing.kind,
            "status": listing.status,
            "grounds": list(listing.grounds),
            "implied_by_id": listing.implied_by_id,
            "starts_on": listing.starts_on.isoformat(),
            "ends_on": listing.ends_on.isoformat() if listing.ends_on else None,
            "removal_reason": listing.removal_reason,
            "removed_at": listing.removed_at.isoformat() if listing.removed_at else None,
            "deletion_deadline": (
                listing.deletion_deadline.isoformat() if listing.deletion_deadline else None
            ),
            "updated_at": listing.updated_at.isoformat(),
        }
    )
    listing.record = json.dumps(record, ensure_ascii=False, separators=(",", ":"))


async def _frozen_total(session: AsyncSession, case_id: int) -> int:
    """What active freezes hold for the case (失信 3(2): seized assets may suffice)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Freeze.frozen - Freeze.deducted), 0)).where(
            Freeze.case_id == case_id, Freeze.status == "active"
        )
    )
    return int(total or 0)


async def _active(session: AsyncSession, case_id: int, party_id: int, kind: str) -> Listing | None:
    """The active listing of this kind for this debtor in this case."""
    return await session.scalar(
        select(Listing).where(
            Listing.case_id == case_id,
            Listing.party_id == party_id,
            Listing.kind == kind,
            Listing.status == "active",
        )
    )


async def _last_applicant_removal(
    session: AsyncSession, case_id: int, party_id: int
) -> dt.date | None:
    """When the applicant last had this debtor deleted (re-listing bar)."""
    removed_at = await session.scalar(
        select(func.max(Listing.removed_at)).where(
            Listing.case_id == case_id,
            Listing.party_id == party_id,
            Listing.kind == "dishonest",
            Listing.removal_reason == "applicant_request",
        )
    )
    return clock.local_date(removed_at) if removed_at else None


async def create_listing(
    session: AsyncSession, principal: Principal, data: ListingCreate
) -> Listing:
    """List a respondent if no rule forbids it; a defaulter listing also restricts (限消 1)."""
    case = await cases.get_case(session, data.case_id, for_update=True)
    ensure_court(principal, case.court_code)
    party = next((r.party for r in case.respondents if r.party_id == data.party_id), None)
    today = clock.today()
    grounds = list(dict.fromkeys(data.grounds))
    facts = rules.ListingFacts(
        kind=data.kind,
        grounds=grounds,
        years=data.years,
        is_respondent=party is not None,
        case_open=case.status == "open" and case.outstanding + case.fee_outstanding > 0,
        subject_kind=party.kind if party else "person",
        birth_date=_birth_date(party) if party else None,
        adequately_secured=data.adequately_secured,
        frozen_total=await _frozen_total(session, case.id),
        owed_total=case.outstanding + case.fee_outstanding,
        later_in_order=data.later_in_order,
        aggravated=data.aggravated,
        already_listed=party is not None
        and await _active(session, case.id, party.id, data.kind) is not None,
        relisting_barred=data.requested_by_applicant
        and rules.relisting_barred(
            await _last_applicant_removal(session, case.id, data.party_id), today
        ),
    )
    refusal = rules.listing_refusal(facts, today)
    if refusal is not None:
        raise ListingRefused(refusal.message, code=refusal.code, details={"rule": refusal.code})
    assert party is not None
    listing = await _add(session, case, party, data.kind, grounds, data.years, None)
    if data.kind == "dishonest" and await _active(session, case.id, party.id, "restricted") is None:
        await _add(session, case, party, "restricted", [], None, listing.id)
    return listing


async def _add(
    session: AsyncSession,
    case: Case,
    party: Party,
    kind: str,
    grounds: list[str],
    years: int | None,
    implied_by_id: int | None,
) -> Listing:
    """Insert a listing, write its record and its ``listed`` feed event."""
    now, today = clock.now(), clock.today()
    listing = Listing(
        case_id=case.id,
        party_id=party.id,
        court_code=case.court_code,
        kind=kind,
        grounds=grounds,
        implied_by_id=implied_by_id,
        subject_kind=party.kind,
        name=party.name,
        name_norm=normalize_name(party.name),
        id_number=party.id_number,
        credit_code=party.credit_code,
        legal_representative=party.legal_representative,
        rep_name_norm=(
            normalize_name(party.legal_representative) if party.legal_representative else None
        ),
        legal_representative_id_number=party.legal_representative_id_number,
        starts_on=today,
        ends_on=rules.listing_end(kind, grounds, years, today),
        status="active",
        version=1,
        record="{}",
        created_at=now,
        updated_at=now,
    )
    session.add(listing)
    await session.flush()
    _refresh_record(listing, _base_record(case, party))
    seq = await feed.append(session, listing, "listed", None)
    audit.record(
        session,
        action="listing.created",
        entity_type="listing",
        entity_id=listing.id,
        after={
            "kind": kind,
            "grounds": grounds,
            "case_id": case.id,
            "party_id": party.id,
            "seq": seq,
        },
    )
    return listing


async def get_listing(
    session: AsyncSession, listing_id: int, *, for_update: bool = False
) -> Listing:
    """One listing; 404 if missing."""
    query = select(Listing).where(Listing.id == listing_id)
    if for_update and db.is_postgres(session):
        query = query.with_for_update()
    listing = await session.scalar(query.execution_options(populate_existing=True))
    if listing is None:
        raise ListingNotFound(details={"listing_id": listing_id})
    return listing


async def remove_listing(
    session: AsyncSession,
    listing_id: int,
    reason: str | None,
    *,
    principal: Principal | None = None,
    note: str | None = None,
    trigger: dt.date | None = None,
) -> Listing:
    """End a listing for a statutory reason (``principal`` None: the system acts)."""
    refusal = rules.removal_refusal(reason, by_system=principal is None)
    if refusal is not None:
        raise ListingRefused(refusal.message, code=refusal.code)
    assert reason is not None
    listing = await get_listing(session, listing_id, for_update=True)
    if principal is not None:
        ensure_court(principal, listing.court_code)
    if listing.status != "active":
        raise ListingAlreadyRemoved(details={"removal_reason": listing.removal_reason})
    await _end(session, listing, reason, note, trigger or clock.today())
    if listing.kind == "dishonest" and rules.cascades_to_implied(reason):
        implied = await session.scalars(
            select(Listing).where(Listing.implied_by_id == listing.id, Listing.status == "active")
        )
        for restriction in list(implied):
            await _end(session, restriction, reason, note, trigger or clock.today())
    return listing


async def _end(
    session: AsyncSession, listing: Listing, reason: str, note: str | None, trigger: dt.date
) -> None:
    """Mark a listing removed, with its deletion deadline, and log ``removed``."""
    now = clock.now()
    listing.status = "removed"
    listing.removal_reason = reason
    listing.removal_note = note
    listing.removal_trigger_on = trigger
    listing.deletion_deadline = rules.deletion_deadline(trigger, cases.holidays())
    listing.removed_at = now
    listing.version += 1
    listing.updated_at = now
    _refresh_record(listing)
    seq = await feed.append(session, listing, "removed", reason)
    audit.record(
        session,
        action="listing.removed",
        entity_type="listing",
        entity_id=listing.id,
        before={"status": "active"},
        after={"status": "removed", "reason": reason, "seq": seq},
    )


async def end_case_listings(session: AsyncSession, case_id: int, reason: str) -> int:
    """Every active listing of a case ends (paid off, 终结, 不予执行); returns how many."""
    ids = list(
        await session.scalars(
            select(Listing.id)
            .where(Listing.case_id == case_id, Listing.status == "active")
            .order_by(Listing.id)
        )
    )
    for listing_id in ids:
        listing = await get_listing(session, listing_id, for_update=True)
        if listing.status == "active":
            await _end(session, listing, reason, None, clock.today())
    return len(ids)


async def due_expiries(session: AsyncSession, today: dt.date, limit: int) -> list[int]:
    """Fixed-term listings whose end date has come."""
    rows = await session.scalars(
        select(Listing.id)
        .where(Listing.status == "active", Listing.ends_on.is_not(None), Listing.ends_on <= today)
        .order_by(Listing.id)
        .limit(limit)
    )
    return list(rows)


async def expire_listing(session: AsyncSession, listing_id: int) -> bool:
    """End one listing whose term is over; the deadline counts from its end date."""
    listing = await get_listing(session, listing_id, for_update=True)
    if listing.status != "active" or not rules.is_expired(listing.ends_on, clock.today()):
        return False
    assert listing.ends_on is not None
    await _end(session, listing, "expired", None, listing.ends_on)
    return True


async def listing_stats(
    session: AsyncSession, date_from: dt.date, date_to: dt.date, court_code: str | None
) -> dict[str, Any]:
    """Listed and removed in the period, and current listings (``GET /stats`` → listings)."""
    scope = [Listing.court_code == court_code] if court_code else []
    start = clock.start_of_local_day(date_from)
    end = clock.start_of_local_day(date_to + dt.timedelta(days=1))

    async def count(*where: Any) -> int:
        return int(
            await session.scalar(select(func.count()).select_from(Listing).where(*scope, *where))
            or 0
        )

    return {
        "listed": await count(Listing.created_at >= start, Listing.created_at < end),
        "dishonest_listed": await count(
            Listing.kind == "dishonest", Listing.created_at >= start, Listing.created_at < end
        ),
        "removed": await count(Listing.removed_at >= start, Listing.removed_at < end),
        "current": await count(Listing.status == "active"),
        "current_dishonest": await count(Listing.status == "active", Listing.kind == "dishonest"),
    }
