"""The bidding engine: one strictly ordered, gap-free bid history per lot under any load.

Locking choice. Every accepted bid for a lot serialises on that lot's ``auctions`` row. The
fast path reads the round without a lock, decides in Python, then writes with ONE statement: an
``UPDATE auctions … WHERE bid_count = <seen> AND ends_at = <seen> AND status IN (live)`` whose
RETURNING feeds the bid ``INSERT`` (a compare-and-set). The UPDATE's row lock is the lot's lock,
held from that statement to the commit; if another bid got in first the WHERE no longer matches,
nothing is written, and the bid is re-decided against the fresh state. Because the state it
was decided on is exactly the state it is written over, the order is as strict as with
``SELECT … FOR UPDATE`` — the critical section is just shorter, which is what a hot lot needs
(the lock used to be held across several round trips, and with 200 requests in flight each
round trip waits for a turn of a busy event loop: the lot saturated at ~110 bids/s).
Refusals need no lock when they cannot be undone by a later state: prices only rise, so a bid
``bid_too_low`` against any committed state stays too low, and ``bad_increment`` is static. Every
other outcome (closed, not yet open, jump, repeated CAS misses) is decided on the slow path:
``SELECT … FOR UPDATE``, re-check, write. That matters for a bid arriving just after the end
while an earlier late bid is extending it: only under the lock does it see the new end.
We rejected the alternatives on purpose:
- SERIALIZABLE with retries gives the same order at a fifth of the rate (retry storms);
- a Redis script is 20–100× faster but can lose an acknowledged bid on failover, and a lost
  bid is a ground for voiding the sale;
- read-then-write without a lock is simply wrong (duplicate prices, gaps).
``UNIQUE(auction_id, seq)`` backs the lock up: if anything ever bypassed it, the second writer
would fail instead of forking the history. Everything is Core, never the ORM (hot path): the
statements are built once at import with bind parameters (building and cache-keying them per
bid cost more CPU than the database work) and run on the session's connection.

Audit. Each accepted bid is audited (``auction.bid_accepted``, before/after price and end).
The audit chain takes its own lock right before the commit, while the lot's row is locked:
for one hot lot the bids are serialised anyway, so that costs a few round trips per bid.

Time. The legal time of a bid is its ingress stamp (``received_at``), taken once by the API
from the service clock; PostgreSQL ``now()`` would be the transaction start, i.e. wrong under
queueing. Accept iff ``starts_at ≤ received_at < ends_at`` read under the lock; then
``ends_at = max(ends_at, received_at + 5 min)`` (in a fixed-price sale the first bid first
brings the end to 24 h after it, ``rules.end_after_bid``). The status is not trusted alone: a
round whose start has passed is open even if the minute cron has not flipped it yet (our lag
must never refuse a bid). On SQLite (embedded, one process) ``FOR UPDATE`` does not exist; a
no-op UPDATE takes the database write lock instead, and the compare-and-set is an UPDATE then
an INSERT in the same write transaction, which serialises the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BindParameter, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from auction import rules
from auction.config import get_config
from auction.errors import (
    AuctionCancelled,
    AuctionClosed,
    AuctionNotFound,
    AuctionNotOpen,
    BidderBarred,
    BidRefused,
    NoDeposit,
)
from auction.lots import schedule_close_at
from auction.models import LIVE_STATUSES, Auction, Bid, Bidder, Registration
from enforcement.core import audit
from enforcement.core.db import is_postgres

_auctions = cast(Table, Auction.__table__)
_bids = cast(Table, Bid.__table__)
_registrations = cast(Table, Registration.__table__)
_bidders = cast(Table, Bidder.__table__)
_FAST_TRIES = 5
_STATIC_REFUSALS = ("bid_too_low", "bad_increment")
_LOCK_COLUMNS = (
    _auctions.c.status,
    _auctions.c.starts_at,
    _auctions.c.ends_at,
    _auctions.c.starting_price,
    _auctions.c.increment,
    _auctions.c.current_price,
    _auctions.c.leader_rank,
    _auctions.c.bid_count,
    _auctions.c.mode,
)


def _build_statements() -> dict[str, Any]:
    """Every statement of the bid path, once (bind parameters ``p_*`` carry the values)."""
    r = _registrations
    auction_id: BindParameter[int] = bindparam("p_auction_id")
    snapshot = (
        select(r.c.id, r.c.priority_rank, r.c.code, r.c.status, _bidders.c.barred, *_LOCK_COLUMNS)
        .select_from(
            _auctions.outerjoin(
                r,
                and_(r.c.auction_id == _auctions.c.id, r.c.bidder_id == bindparam("p_bidder_id")),
            ).outerjoin(_bidders, _bidders.c.id == r.c.bidder_id)
        )
        .where(_auctions.c.id == auction_id)
    )
    state = select(*_LOCK_COLUMNS).where(_auctions.c.id == auction_id)
    move = (
        update(_auctions)
        .where(
            _auctions.c.id == auction_id,
            _auctions.c.bid_count == bindparam("p_seen_count"),
            _auctions.c.ends_at == bindparam("p_seen_ends_at", type_=_auctions.c.ends_at.type),
            # OR, not IN: an expanding IN is re-rendered on every execution
            or_(*(_auctions.c.status == status for status in LIVE_STATUSES)),
        )
        .values(
            status="open",
            current_price=bindparam("p_amount"),
            leader_registration_id=bindparam("p_registration_id"),
            leader_rank=bindparam("p_rank", type_=_auctions.c.leader_rank.type),
            bid_count=bindparam("p_seq"),
            ends_at=bindparam("p_ends_at", type_=_auctions.c.ends_at.type),
            updated_at=bindparam("p_received_at", type_=_auctions.c.updated_at.type),
        )
    )
    bid_values = {
        "seq": "p_seq",
        "registration_id": "p_registration_id",
        "amount": "p_amount",
        "priority_match": "p_priority_match",
        "received_at": "p_received_at",
        "client_key": "p_client_key",
    }
    # PostgreSQL: one statement, the bid is inserted from the UPDATE's RETURNING (if it matched)
    moved = move.returning(_auctions.c.id).cte("moved")
    write_pg = (
        insert(_bids)
        .from_select(
            ["auction_id", *bid_values],
            select(
                moved.c.id,
                *(bindparam(name, type_=_bids.c[c].type) for c, name in bid_values.items()),
            ),
        )
        .returning(_bids.c.seq)
        .add_cte(moved)
    )
    insert_bid = insert(_bids).values(
        auction_id=auction_id,
        **{c: bindparam(name, type_=_bids.c[c].type) for c, name in bid_values.items()},
    )
    replay = select(_bids.c.seq, _bids.c.amount).where(
        _bids.c.auction_id == auction_id,
        _bids.c.registration_id == bindparam("p_registration_id"),
        _bids.c.client_key == bindparam("p_client_key"),
    )
    return {
        "snapshot": snapshot,
        "barred": select(_bidders.c.barred).where(_bidders.c.id == bindparam("p_bidder_id")),
        "state": state,
        "lock": state.with_for_update(),
        "touch": update(_auctions).where(_auctions.c.id == auction_id).values(id=_auctions.c.id),
        "move": move,
        "write_pg": write_pg,
        "insert_bid": insert_bid,
        "replay": replay,
    }


_SQL = _build_statements()


async def _conn(session: AsyncSession) -> AsyncConnection:
    """The session's connection (in its transaction): Core statements skip the ORM layer.

    Unlike ``session.execute`` this does not autoflush, so pending ORM changes of a caller
    are flushed here first (on the bid path there are none: the check is all it costs).
    """
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


@dataclass(frozen=True)
class LotState:
    """The live columns of a round, read under its lock."""

    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    starting_price: int
    increment: int
    current_price: int | None
    leader_rank: int | None
    bid_count: int
    mode: str


@dataclass(frozen=True)
class PlacedBid:
    """An accepted bid: its place in the history, its amount and the (possibly moved) end."""

    seq: int
    amount: int
    ends_at: dt.datetime
    replay: bool = False
    label: str = ""


@dataclass(frozen=True)
class Seat:
    """The bidder's held deposit in this round: registration id, priority rank, public code."""

    id: int
    rank: int | None
    code: str


async def _snapshot(
    session: AsyncSession, auction_id: int, bidder_id: int
) -> tuple[Seat, LotState]:
    """The bidder's seat and the round's state, read together without a lock (one query)."""
    conn = await _conn(session)
    row = (
        await conn.execute(_SQL["snapshot"], {"p_auction_id": auction_id, "p_bidder_id": bidder_id})
    ).first()
    if row is None or row.id is None:
        barred = await conn.scalar(_SQL["barred"], {"p_bidder_id": bidder_id})
        if barred:
            raise BidderBarred()
        if row is None:
            raise AuctionNotFound(details={"auction_id": auction_id})
        raise NoDeposit()
    if row.barred or row.status != "held":
        raise BidderBarred(details={"deposit": row.status})
    return Seat(row.id, row.priority_rank, row.code), LotState(*row[5:])


async def _state(session: AsyncSession, auction_id: int) -> LotState:
    """The round's committed state, re-read without a lock after a lost compare-and-set."""
    conn = await _conn(session)
    row = (await conn.execute(_SQL["state"], {"p_auction_id": auction_id})).one()
    return LotState(*row)


async def _lock(session: AsyncSession, auction_id: int) -> LotState:
    """Take the lot's lock and read its live state (see the module docstring)."""
    conn = await _conn(session)
    params = {"p_auction_id": auction_id}
    if is_postgres(session):
        query = _SQL["lock"]
    else:
        await conn.execute(_SQL["touch"], params)
        query = _SQL["state"]
    row = (await conn.execute(query, params)).first()
    if row is None:
        raise AuctionNotFound(details={"auction_id": auction_id})
    return LotState(*row)


def _check_window(row: LotState, received_at: dt.datetime) -> None:
    if row.status == "cancelled":
        raise AuctionCancelled()
    if row.status not in ("scheduled", "open") or received_at >= row.ends_at:
        raise AuctionClosed(details={"ends_at": row.ends_at.isoformat()})
    if received_at < row.starts_at:
        raise AuctionNotOpen(details={"starts_at": row.starts_at.isoformat()})


async def _replay(
    session: AsyncSession,
    auction_id: int,
    registration_id: int,
    client_key: str,
    ends_at: dt.datetime,
) -> PlacedBid | None:
    """The bid this bidder already placed with this key (a retried request), if any."""
    conn = await _conn(session)
    params = {
        "p_auction_id": auction_id,
        "p_registration_id": registration_id,
        "p_client_key": client_key,
    }
    row = (await conn.execute(_SQL["replay"], params)).first()
    return PlacedBid(row.seq, row.amount, ends_at, replay=True) if row else None


def _refusal(row: LotState, amount: int, rank: int | None, confirm_jump: bool) -> BidRefused | None:
    """The rules' verdict on ``amount`` against ``row`` (None = acceptable)."""
    current = row.current_price
    refusal = rules.bid_refusal(
        amount,
        starting=row.starting_price,
        increment=row.increment,
        leader=None if current is None else rules.Leader(current, row.leader_rank),
        rank=rank,
        jump_limit=get_config().jump_confirm_increments,
        confirm_jump=confirm_jump,
    )
    if refusal is None:
        return None
    minimum = rules.minimum_bid(
        starting=row.starting_price, increment=row.increment, current=current
    )
    return BidRefused(
        refusal[1],
        code=refusal[0],
        status=422 if refusal[0] == "bad_increment" else 409,
        details={"current_price": current, "minimum_bid": minimum},
    )


def _in_window(row: LotState, received_at: dt.datetime) -> bool:
    return row.status in LIVE_STATUSES and row.starts_at <= received_at < row.ends_at


async def _write(
    session: AsyncSession,
    auction_id: int,
    seat: Seat,
    row: LotState,
    amount: int,
    received_at: dt.datetime,
    client_key: str | None,
    *,
    locked: bool,
) -> PlacedBid | None:
    """Insert the bid and move the round, iff the round is still exactly ``row``.

    Under the lock (``locked``) the state cannot have moved; otherwise the UPDATE is a
    compare-and-set and None means another bid got in first (nothing was written).
    """
    seq = row.bid_count + 1
    ends_at = rules.end_after_bid(row.mode, row.ends_at, received_at, first=row.bid_count == 0)
    params = {
        "p_auction_id": auction_id,
        "p_seen_count": row.bid_count,
        "p_seen_ends_at": row.ends_at,
        "p_seq": seq,
        "p_registration_id": seat.id,
        "p_rank": seat.rank,
        "p_amount": amount,
        "p_priority_match": row.current_price is not None and amount == row.current_price,
        "p_received_at": received_at,
        "p_ends_at": ends_at,
        "p_client_key": client_key,
    }
    conn = await _conn(session)
    if is_postgres(session):
        matched = (await conn.execute(_SQL["write_pg"], params)).first() is not None
    else:
        matched = (await conn.execute(_SQL["move"], params)).rowcount == 1
        if matched:
            await conn.execute(_SQL["insert_bid"], params)
    if not matched:
        if locked:
            raise RuntimeError("bid write under the lot lock matched nothing")
        return None
    audit.record(
        session,
        action="auction.bid_accepted",
        entity_type="auction",
        entity_id=auction_id,
        before={
            "current_price": row.current_price,
            "ends_at": row.ends_at,
            "bid_count": row.bid_count,
        },
        after={
            "current_price": amount,
            "ends_at": ends_at,
            "bid_count": seq,
            "registration_id": seat.id,
            "received_at": received_at,
        },
    )
    if ends_at < row.ends_at:  # a fixed-price sale's first bid: the close comes earlier
        schedule_close_at(session, auction_id, ends_at)
    return PlacedBid(seq, amount, ends_at, label=rules.bidder_label(seat.code))


async def _fast(
    session: AsyncSession,
    auction_id: int,
    seat: Seat,
    row: LotState,
    amount: int,
    received_at: dt.datetime,
    confirm_jump: bool,
    client_key: str | None,
) -> PlacedBid | None:
    """The lock-free attempts: a placed bid, a raised static refusal, or None (go slow)."""
    for _ in range(_FAST_TRIES):
        if not _in_window(row, received_at):
            return None
        refused = _refusal(row, amount, seat.rank, confirm_jump)
        if refused is not None:
            if refused.code in _STATIC_REFUSALS:
                raise refused
            return None
        placed = await _write(
            session, auction_id, seat, row, amount, received_at, client_key, locked=False
        )
        if placed is not None:
            return placed
        row = await _state(session, auction_id)
        if client_key is not None:  # a racing retry of this very bid may have won
            replay = await _replay(session, auction_id, seat.id, client_key, row.ends_at)
            if replay is not None:
                return replay
    return None


async def place_bid(
    session: AsyncSession,
    *,
    auction_id: int,
    bidder_id: int,
    amount: int,
    received_at: dt.datetime,
    confirm_jump: bool = False,
    client_key: str | None = None,
) -> PlacedBid:
    """Accept or refuse one bid; a refusal raises and writes nothing.

    Fast path without a lock (compare-and-set), slow path under ``FOR UPDATE`` for every
    outcome a later state could change (see the module docstring).
    """
    seat, row = await _snapshot(session, auction_id, bidder_id)
    if client_key is not None:
        replay = await _replay(session, auction_id, seat.id, client_key, row.ends_at)
        if replay is not None:
            return replay
    placed = await _fast(
        session, auction_id, seat, row, amount, received_at, confirm_jump, client_key
    )
    if placed is not None:
        return placed
    row = await _lock(session, auction_id)
    _check_window(row, received_at)
    if client_key is not None:
        replay = await _replay(session, auction_id, seat.id, client_key, row.ends_at)
        if replay is not None:
            return replay
    refused = _refusal(row, amount, seat.rank, confirm_jump)
    if refused is not None:
        raise refused
    placed = await _write(
        session, auction_id, seat, row, amount, received_at, client_key, locked=True
    )
    assert placed is not None
    return placed
