"""Screening: is this subject listed or restricted, and why?

Identifiers decide: an exact, checksum-validated ID number or credit code is looked up on
indexed columns with Core (no ORM on the hot path), also as the legal representative of a
listed organization, who is restricted with it (限消 2015). Names only nominate: ranked
candidates on the folded name, with a hint that an identifier is needed. Every call is
logged: who asked, when, a hash of the question, what was answered.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import insert, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from blacklist.errors import EmptyScreening
from blacklist.models import AccessLog, Listing
from blacklist.normalize import normalize_name
from blacklist.schemas import ScreenRequest
from enforcement.core import clock, db
from enforcement.core.auth import Principal

NAME_HINT = "names collide (王伟…): an identifier (id_number or credit_code) is needed to decide"
MAX_CANDIDATES = 50
_ACTIVE = Listing.status == "active"


def _by_column(column: Any, value: str, label: str) -> Any:
    """Active listings whose ``column`` equals ``value``, labelled."""
    return select(Listing.record, literal(label).label("matched_on")).where(
        _ACTIVE, column == value
    )


async def _lookup(session: AsyncSession, query: ScreenRequest) -> list[tuple[str, str, float]]:
    """(record, matched_on, score) rows: identifiers score 1, names below."""
    parts: list[Any] = []
    if query.id_number:
        parts.append(_by_column(Listing.id_number, query.id_number, "id_number"))
        parts.append(
            _by_column(
                Listing.legal_representative_id_number,
                query.id_number,
                "legal_representative_id_number",
            )
        )
    if query.credit_code:
        parts.append(_by_column(Listing.credit_code, query.credit_code, "credit_code"))
    decided = bool(parts)
    if query.name and not decided:
        folded = normalize_name(query.name)
        parts.append(_by_column(Listing.name_norm, folded, "name").limit(MAX_CANDIDATES))
        parts.append(
            _by_column(Listing.rep_name_norm, folded, "legal_representative_name").limit(
                MAX_CANDIDATES
            )
        )
    statement = parts[0] if len(parts) == 1 else union_all(*(p.subquery().select() for p in parts))
    rows = (await session.execute(statement)).all()
    return [
        (row[0], row[1], 1.0 if decided else _name_score(query.name or "", row[0])) for row in rows
    ]


def _name_score(asked: str, record: str) -> float:
    """Below 1 by design: a name never decides. Exact spelling 0.8, folded match 0.7."""
    name = json.loads(record).get("name", "")
    return 0.8 if asked.strip() == name else 0.7


async def screen(
    session: AsyncSession, principal: Principal, query: ScreenRequest
) -> dict[str, Any]:
    """Answer a screening request and log it."""
    if not (query.id_number or query.credit_code or query.name):
        raise EmptyScreening()
    rows = await _lookup(session, query)
    matches = [
        {"listing": json.loads(record), "score": score, "matched_on": matched_on}
        for record, matched_on, score in rows
    ]
    matches.sort(key=lambda m: (-m["score"], m["listing"]["id"]))
    decided = bool(query.id_number or query.credit_code)
    result: dict[str, Any] = {
        "matches": matches,
        "decided": decided,
        "dishonest": None,
        "restricted": None,
        "reasons": [],
        "hint": None if decided else NAME_HINT,
    }
    if decided:
        result.update(_verdict(matches))
    await _log(session, principal, query, result)
    return result


def _verdict(matches: list[dict[str, Any]]) -> dict[str, Any]:
    """Listed on the defaulter list? Restricted (own listing or as a legal representative)?"""
    reasons: list[str] = []
    dishonest = False
    for match in matches:
        listing = match["listing"]
        via = listing["case_number"]
        if match["matched_on"] == "legal_representative_id_number":
            reasons.append(f"legal representative of listed {listing['name']} ({via}, 限消)")
        elif listing["kind"] == "dishonest":
            dishonest = True
            grounds = ", ".join(listing["grounds"])
            reasons.append(f"defaulter list ({via}): {grounds}")
        else:
            reasons.append(f"consumption restriction ({via})")
    return {"dishonest": dishonest, "restricted": bool(matches), "reasons": reasons}


async def _log(
    session: AsyncSession, principal: Principal, query: ScreenRequest, result: dict[str, Any]
) -> None:
    """Who asked, a hash of what, and which listing versions were answered."""
    listings = [[m["listing"]["id"], m["listing"]["version"]] for m in result["matches"]]
    summary = {"decided": result["decided"], "restricted": result["restricted"]}
    asked = query.model_dump_json(exclude_none=True)
    await log_read(session, principal, "screen", asked, {**summary, "listings": listings})


async def log_read(
    session: AsyncSession, principal: Principal, kind: str, asked: str, result: dict[str, Any]
) -> None:
    """Log a read of the lists (screening, feed page, export) with Core: no ORM flush, and on
    PostgreSQL no WAL flush of its own (a crash may lose the last milliseconds of log)."""
    if db.is_postgres(session):
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    await session.execute(
        insert(AccessLog).values(
            kind=kind,
            token_id=principal.token_id,
            actor=principal.actor().name,
            query_hash=hashlib.sha256(asked.encode()).hexdigest(),
            result=result,
            at=clock.now(),
        )
    )
