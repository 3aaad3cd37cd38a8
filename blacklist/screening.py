"""Screening: is this subject listed or restricted, and why?

Identifiers decide: an exact, checksum-validated ID number or credit code is looked up on
indexed columns, also among the persons an organization's listing restricts with it (legal
representative, principal, directly responsible, actual controller: 限消 Art 3). Names only
nominate: ranked candidates on the folded name, with a hint that an identifier is needed.
Every call is logged: who asked, when, an HMAC of the question (keyed, so the log does not
let anyone confirm a guessed ID number), which listing versions were answered.

On PostgreSQL a call is one statement on an autocommit connection: the lookup and the log
insert share a CTE, so there is no BEGIN, no SET and no COMMIT round trip, and the answer and
its log row commit together. The stored record text is passed through to the response.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import insert, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from blacklist.errors import EmptyScreening
from blacklist.models import AccessLog, Listing, ListingPerson
from blacklist.normalize import normalize_name
from blacklist.rules import RELATED_ROLE_LABELS
from blacklist.schemas import ScreenRequest
from enforcement.core import clock, db
from enforcement.core.auth import Principal
from enforcement.core.settings import get_settings

NAME_HINT = "names collide (王伟…): an identifier (id_number or credit_code) is needed to decide"
MAX_CANDIDATES = 50
_ACTIVE = Listing.status == "active"

Hit = tuple[int, int, str, str, str]
"""(listing id, version, record text, listing name, matched_on)."""


def query_hash(asked: str) -> str:
    """HMAC-SHA256 of a question under the server's key (``screening_hmac_key``)."""
    key = get_settings().screening_hmac_key.get_secret_value().encode()
    return hmac.new(key, asked.encode(), hashlib.sha256).hexdigest()


def _asked(query: ScreenRequest) -> str:
    """The canonical text of a question, the input of its hash."""
    return query.model_dump_json(exclude_none=True)


async def screen(session: AsyncSession, principal: Principal, query: ScreenRequest) -> bytes:
    """Answer a screening request (JSON bytes of a ``ScreenResult``) and log it."""
    if not (query.id_number or query.credit_code or query.name):
        raise EmptyScreening()
    decided = bool(query.id_number or query.credit_code)
    if db.is_postgres(session):
        hits = await _lookup_and_log_postgres(principal, query, decided)
    else:
        hits = await _lookup_portable(session, query, decided)
        await _log_portable(session, principal, query, decided, hits)
    return _answer(query, decided, hits)


# --- PostgreSQL: one statement -------------------------------------------------------------

_LISTING_COLUMNS = "l.id, l.version, l.record, l.name"


def _postgres_sql(
    query: ScreenRequest, decided: bool, log: tuple[Any, ...], params: list[Any]
) -> str:
    """The CTE: hits by identifier (or name), the log row (``log``: token id, actor, query
    hash, time), the hits returned in id order. Fills ``params`` for its ``$n`` placeholders."""

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    parts: list[str] = []
    if query.id_number:
        p = param(query.id_number)
        parts.append(
            f"SELECT {_LISTING_COLUMNS}, 'id_number' AS matched_on FROM listings l "
            f"WHERE l.status = 'active' AND l.id_number = {p}"
        )
        parts.append(
            f"SELECT {_LISTING_COLUMNS}, p.role || '_id_number' AS matched_on "
            f"FROM listing_persons p "
            f"JOIN listings l ON l.id = p.listing_id "
            f"WHERE l.status = 'active' AND p.id_number = {p}"
        )
    if query.credit_code:
        p = param(query.credit_code)
        parts.append(
            f"SELECT {_LISTING_COLUMNS}, 'credit_code' AS matched_on FROM listings l "
            f"WHERE l.status = 'active' AND l.credit_code = {p}"
        )
    if query.name and not decided:
        p = param(normalize_name(query.name))
        parts.append(
            f"(SELECT {_LISTING_COLUMNS}, 'name' AS matched_on FROM listings l "
            f"WHERE l.status = 'active' AND l.name_norm = {p} "
            f"ORDER BY l.id LIMIT {MAX_CANDIDATES})"
        )
        parts.append(
            f"(SELECT {_LISTING_COLUMNS}, p.role || '_name' AS matched_on "
            f"FROM listing_persons p "
            f"JOIN listings l ON l.id = p.listing_id "
            f"WHERE l.status = 'active' AND p.name_norm = {p} "
            f"ORDER BY l.id LIMIT {MAX_CANDIDATES})"
        )
    hits = " UNION ALL ".join(parts)
    decided_p = param(decided)
    token_id, actor, asked_hash, at = (param(value) for value in log)
    return f"""
WITH hits AS ({hits}),
logged AS (
  INSERT INTO list_access_log (kind, token_id, actor, query_hash, result, at)
  SELECT 'screen', {token_id}::bigint, {actor}, {asked_hash},
    json_build_object(
      'decided', {decided_p}::boolean,
      'restricted', CASE WHEN {decided_p}::boolean THEN count(h.id) > 0 END,
      'listings', coalesce(
        json_agg(json_build_array(h.id, h.version) ORDER BY h.id, h.matched_on)
          FILTER (WHERE h.id IS NOT NULL),
        '[]'::json)),
    {at}::timestamptz
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS cfg
  LEFT JOIN hits AS h ON true
)
SELECT id, version, record, name, matched_on FROM hits ORDER BY id, matched_on"""


async def _lookup_and_log_postgres(
    principal: Principal, query: ScreenRequest, decided: bool
) -> list[Hit]:
    """Run the CTE through the raw asyncpg connection, outside any explicit transaction.

    ``synchronous_commit`` is off for this statement only: a crash may lose the last
    milliseconds of the log, never a listing change."""
    params: list[Any] = []
    log = (principal.token_id, principal.actor().name, query_hash(_asked(query)), clock.now())
    sql = _postgres_sql(query, decided, log, params)
    async with db.get_engine().connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        rows = await driver.fetch(sql, *params)
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


# --- portable (SQLite): Core, two statements in the request's transaction -------------------


def _listing_part(column: Any, value: str, label: str) -> Any:
    """Active listings whose ``column`` equals ``value``, labelled."""
    return select(
        Listing.id, Listing.version, Listing.record, Listing.name, literal(label).label("m")
    ).where(_ACTIVE, column == value)


def _person_part(column: Any, value: str, suffix: str) -> Any:
    """Active listings restricting a related person whose ``column`` equals ``value``."""
    return (
        select(
            Listing.id,
            Listing.version,
            Listing.record,
            Listing.name,
            (ListingPerson.role + literal(suffix)).label("m"),
        )
        .join(Listing, Listing.id == ListingPerson.listing_id)
        .where(_ACTIVE, column == value)
    )


async def _lookup_portable(session: AsyncSession, query: ScreenRequest, decided: bool) -> list[Hit]:
    """The same hits with SQLAlchemy Core."""
    parts: list[Any] = []
    if query.id_number:
        parts.append(_listing_part(Listing.id_number, query.id_number, "id_number"))
        parts.append(_person_part(ListingPerson.id_number, query.id_number, "_id_number"))
    if query.credit_code:
        parts.append(_listing_part(Listing.credit_code, query.credit_code, "credit_code"))
    if query.name and not decided:
        folded = normalize_name(query.name)
        parts.append(_listing_part(Listing.name_norm, folded, "name").limit(MAX_CANDIDATES))
        parts.append(_person_part(ListingPerson.name_norm, folded, "_name").limit(MAX_CANDIDATES))
    statement = union_all(*(p.subquery().select() for p in parts))
    rows = (await session.execute(statement)).all()
    hits = [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
    return sorted(hits, key=lambda h: (h[0], h[4]))


async def _log_portable(
    session: AsyncSession,
    principal: Principal,
    query: ScreenRequest,
    decided: bool,
    hits: list[Hit],
) -> None:
    """The log row the PostgreSQL statement writes, written with Core."""
    result = {
        "decided": decided,
        "restricted": bool(hits) if decided else None,
        "listings": [[h[0], h[1]] for h in hits],
    }
    await log_read(session, principal, "screen", _asked(query), result)


# --- the answer -----------------------------------------------------------------------------


def _name_score(asked: str, name: str) -> float:
    """Below 1 by design: a name never decides. Exact spelling 0.8, folded match 0.7."""
    return 0.8 if asked.strip() == name else 0.7


def _answer(query: ScreenRequest, decided: bool, hits: list[Hit]) -> bytes:
    """The ``ScreenResult`` JSON; stored records are spliced in, not re-encoded."""
    scored = [(1.0 if decided else _name_score(query.name or "", h[3]), h) for h in hits]
    scored.sort(key=lambda item: (-item[0], item[1][0]))
    matches = ",".join(
        f'{{"listing":{h[2]},"score":{score},"matched_on":"{h[4]}"}}' for score, h in scored
    )
    if decided:
        verdict = _verdict([(h[4], json.loads(h[2])) for _, h in scored])
    else:
        verdict = {"dishonest": None, "restricted": None, "reasons": []}
    tail = json.dumps(
        {"decided": decided, **verdict, "hint": None if decided else NAME_HINT},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f'{{"matches":[{matches}],{tail[1:]}'.encode()


def _verdict(matches: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Listed on the defaulter list? Restricted (own listing, or as a related person)?"""
    reasons: list[str] = []
    dishonest = False
    for matched_on, listing in matches:
        via = listing["case_number"]
        role = matched_on.removesuffix("_id_number")
        if role in RELATED_ROLE_LABELS:
            label = RELATED_ROLE_LABELS[role]
            reasons.append(f"{label} of listed {listing['name']} ({via}, 限消 3)")
        elif listing["kind"] == "dishonest":
            dishonest = True
            grounds = ", ".join(listing["grounds"])
            reasons.append(f"defaulter list ({via}): {grounds}")
        else:
            reasons.append(f"consumption restriction ({via})")
    return {"dishonest": dishonest, "restricted": bool(matches), "reasons": reasons}


async def log_read(
    session: AsyncSession, principal: Principal, kind: str, asked: str, result: dict[str, Any]
) -> None:
    """Log a read of the lists (feed page, export; screening on SQLite) with Core in the
    request's transaction; on PostgreSQL without a WAL flush of its own (a crash may lose
    the last milliseconds of log, never a listing change)."""
    if db.is_postgres(session):
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    await session.execute(
        insert(AccessLog).values(
            kind=kind,
            token_id=principal.token_id,
            actor=principal.actor().name,
            query_hash=query_hash(asked),
            result=result,
            at=clock.now(),
        )
    )
