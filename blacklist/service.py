"""Listing use cases: list a debtor, end a listing, react to paid-off and closed cases, expire.

Services take the session, may flush, never commit. Every change bumps the listing's
``version``, rewrites its stored record and appends to the feed in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blacklist import feed, rules
from blacklist.errors import ListingAlreadyRemoved, ListingNotFound, ListingRefused
from blacklist.models import Listing, ListingPerson
from blacklist.normalize import normalize_name
from blacklist.schemas import ListingCorrection, ListingCreate, RelatedPersonIn
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
        "related_persons": [],
        "case_id": case.id,
        "case_number": case.case_number,
        "court_code": case.court_code,
        "filed_on": case.filed_on.isoformat(),
        "basis": case.basis,
    }


def related_persons(
    party: Party, requested: list[RelatedPersonIn] | None
) -> list[dict[str, str | None]]:
    """Whom an organization's listing restricts with it (限消 Art 3): the persons named, and
    the party's legal representative unless a legal representative is named. 422 for a
    person debtor (nobody is restricted with a natural person) or a person named twice."""
    named = [p.model_dump() for p in requested or []]
    if party.kind != "organization":
        if named:
            raise ListingRefused(
                "only an organization's listing names related persons (限消 3)",
                code="related_persons_not_applicable",
            )
        return []
    seen: set[tuple[str, str]] = set()
    for person in named:
        key = (person["role"], person["id_number"])
        if key in seen:
            raise ListingRefused(
                "a related person is named twice in the same role",
                code="duplicate_related_person",
                details={"role": person["role"]},
            )
        seen.add(key)
    if party.legal_representative and not any(p["role"] == "legal_representative" for p in named):
        named.insert(
            0,
            {
                "role": "legal_representative",
                "name": party.legal_representative,
                "id_number": party.legal_representative_id_number,
            },
        )
    return named


def _set_persons(
    session: AsyncSession, listing: Listing, persons: list[dict[str, str | None]]
) -> None:
    """Store the related persons (screening finds them) and publish them in the record;
    the record's legal representative is the first one named."""
    for person in persons:
        session.add(
            ListingPerson(
                listing_id=listing.id,
                role=person["role"],
                name=person["name"],
                name_norm=normalize_name(person["name"] or ""),
                id_number=person["id_number"],
            )
        )
    rep = next((p for p in persons if p["role"] == "legal_representative"), None)
    listing.legal_representative = rep["name"] if rep else None
    listing.legal_representative_id_number = rep["id_number"] if rep else None
    record = json.loads(listing.record)
    record["legal_representative"] = listing.legal_representative
    record["legal_representative_id_number"] = listing.legal_representative_id_number
    record["related_persons"] = persons
    listing.record = _dump(record)


def _dump(record: dict[str, Any]) -> str:
    """Compact JSON text, as stored and passed through by the feed and the export."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


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
    listing.record = _dump(record)


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
    persons = related_persons(party, data.related_persons)
    terms = _Terms(grounds, data.years, data.aggravated)
    listing = await _add(session, case, party, data.kind, terms, persons, None)
    if data.kind == "dishonest" and await _active(session, case.id, party.id, "restricted") is None:
        await _add(session, case, party, "restricted", _Terms([], None, False), persons, listing.id)
    return listing


@dataclass(frozen=True)
class _Terms:
    """What the decision says: grounds, fixed term in years, aggravation."""

    grounds: list[str]
    years: int | None
    aggravated: bool


async def _add(
    session: AsyncSession,
    case: Case,
    party: Party,
    kind: str,
    terms: _Terms,
    persons: list[dict[str, str | None]],
    implied_by_id: int | None,
) -> Listing:
    """Insert a listing, write its record and its ``listed`` feed event."""
    grounds = terms.grounds
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
        starts_on=today,
        ends_on=rules.listing_end(kind, grounds, terms.years, today),
        aggravated=terms.aggravated,
        status="active",
        version=1,
        record="{}",
        created_at=now,
        updated_at=now,
    )
    session.add(listing)
    await session.flush()
    _refresh_record(listing, _base_record(case, party))
    _set_persons(session, listing, persons)
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


async def correct_listing(
    session: AsyncSession, principal: Principal, listing_id: int, data: ListingCorrection
) -> Listing:
    """Correct an inaccurate active listing (失信 Art 12): new grounds, term or related
    persons within the rules; version bumped, ``updated`` fed. Related persons corrected on
    a defaulter listing reach the restriction it implied (the same organization)."""
    listing = await get_listing(session, listing_id, for_update=True)
    ensure_court(principal, listing.court_code)
    if listing.status != "active":
        raise ListingAlreadyRemoved(details={"removal_reason": listing.removal_reason})
    given = data.model_fields_set
    grounds = list(dict.fromkeys(data.grounds)) if data.grounds is not None else listing.grounds
    if "years" in given:
        years = data.years
    elif listing.kind != "dishonest" or rules.ABLE_BUT_REFUSES in grounds:
        years = None  # no fixed term (restriction, ground 1)
    else:  # keep the decided term; the base term needs no stating
        years = rules.term_years(listing.starts_on, listing.ends_on)
        years = None if years == rules.BASE_TERM_YEARS else years
    aggravated = data.aggravated if data.aggravated is not None else listing.aggravated
    case = await cases.get_case(session, listing.case_id)
    facts = rules.ListingFacts(
        kind=listing.kind,
        grounds=grounds,
        years=years,
        is_respondent=True,
        case_open=True,
        subject_kind=listing.subject_kind,
        birth_date=None,
        adequately_secured=data.adequately_secured,
        frozen_total=await _frozen_total(session, case.id),
        owed_total=case.outstanding + case.fee_outstanding,
        later_in_order=data.later_in_order,
        aggravated=aggravated,
    )
    refusal = rules.correction_refusal(facts, clock.today())
    if refusal is not None:
        raise ListingRefused(refusal.message, code=refusal.code, details={"rule": refusal.code})
    persons: list[dict[str, str | None]] | None = None
    if data.related_persons is not None:
        party = await session.get(Party, listing.party_id)
        assert party is not None
        persons = related_persons(party, data.related_persons)
    ends_on = rules.listing_end(listing.kind, grounds, years, listing.starts_on)
    before = _correctable(listing)
    changed = (
        grounds != listing.grounds
        or ends_on != listing.ends_on
        or aggravated != listing.aggravated
        or (persons is not None and persons != json.loads(listing.record)["related_persons"])
    )
    if not changed:
        raise ListingRefused("the correction changes nothing", code="no_change")
    listing.grounds = grounds
    listing.ends_on = ends_on
    listing.aggravated = aggravated
    await _corrected(session, listing, persons, data.note, before)
    if persons is not None and listing.kind == "dishonest":
        implied = await session.scalars(
            select(Listing).where(Listing.implied_by_id == listing.id, Listing.status == "active")
        )
        for restriction in list(implied):
            restriction_before = _correctable(restriction)
            await _corrected(session, restriction, persons, data.note, restriction_before)
    return listing


def _correctable(listing: Listing) -> dict[str, Any]:
    """The fields a correction may change, for the audit trail."""
    return {
        "grounds": list(listing.grounds),
        "ends_on": listing.ends_on.isoformat() if listing.ends_on else None,
        "aggravated": listing.aggravated,
        "related_persons": json.loads(listing.record).get("related_persons", []),
    }


async def _corrected(
    session: AsyncSession,
    listing: Listing,
    persons: list[dict[str, str | None]] | None,
    note: str | None,
    before: dict[str, Any],
) -> None:
    """Bump the version, rewrite the record and persons, log ``updated`` and audit it."""
    listing.version += 1
    listing.updated_at = clock.now()
    _refresh_record(listing)
    if persons is not None:
        await session.execute(delete(ListingPerson).where(ListingPerson.listing_id == listing.id))
        _set_persons(session, listing, persons)
    seq = await feed.append(session, listing, "updated", "corrected")
    audit.record(
        session,
        action="listing.corrected",
        entity_type="listing",
        entity_id=listing.id,
        before=before,
        after={**_correctable(listing), "note": note, "seq": seq, "version": listing.version},
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
