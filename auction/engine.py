"""The bidding engine: one strictly ordered, gap-free bid history per lot under any load.

Locking choice. Every bid for a lot serialises on that lot's ``auctions`` row with
``SELECT … FOR UPDATE`` in PostgreSQL: read the price, check the rules, insert the bid with
``seq = bid_count + 1``, update the row, commit. The critical section is three statements, so a
hot lot sustains hundreds of bids per second (auction.md: 340–530/s on our hardware), while
other lots never wait. We rejected the alternatives on purpose:
- SERIALIZABLE with retries gives the same order at a fifth of the rate (retry storms);
- a Redis script is 20–100× faster but can lose an acknowledged bid on failover, and a lost
  bid is a ground for voiding the sale;
- read-then-write without a lock is simply wrong (duplicate prices, gaps).
``UNIQUE(auction_id, seq)`` backs the lock up: if anything ever bypassed it, the second writer
would fail instead of forking the history. The lock row is read with Core, not the ORM, to keep
the section short; work that needs no lock (registration, bar checks) happens before it.

Time. The legal time of a bid is its ingress stamp (``received_at``), taken once by the API
from the service clock; PostgreSQL ``now()`` would be the transaction start, i.e. wrong under
queueing. Accept iff ``starts_at ≤ received_at < ends_at`` read under the lock; then
``ends_at = max(ends_at, received_at + 5 min)``. The status is not trusted alone: a round whose
start has passed is open even if the minute cron has not flipped it yet (our lag must never
refuse a bid). On SQLite (embedded, one process) ``FOR UPDATE`` does not exist; a no-op UPDATE
takes the database write lock instead, which serialises the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
from auction.models import Auction, Bid, Bidder, Registration
from enforcement.core.db import is_postgres

_auctions = Auction.__table__
_bids = Bid.__table__
_registrations = Registration.__table__
_bidders = Bidder.__table__
_LOCK_COLUMNS = (
    _auctions.c.status,
    _auctions.c.starts_at,
    _auctions.c.ends_at,
    _auctions.c.starting_price,
    _auctions.c.increment,
    _auctions.c.current_price,
    _auctions.c.leader_rank,
    _auctions.c.bid_count,
)


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


@dataclass(frozen=True)
class PlacedBid:
    """An accepted bid: its place in the history, its amount and the (possibly moved) end."""

    seq: int
    amount: int
    ends_at: dt.datetime
    replay: bool = False


async def _registration(
    session: AsyncSession, auction_id: int, bidder_id: int
) -> tuple[int, int | None]:
    """The bidder's held deposit for this round (id, priority rank), or the reason it can't bid."""
    row = (
        await session.execute(
            select(
                _registrations.c.id,
                _registrations.c.priority_rank,
                _registrations.c.status,
                _bidders.c.barred,
            )
            .join(_bidders, _bidders.c.id == _registrations.c.bidder_id)
            .where(
                _registrations.c.auction_id == auction_id, _registrations.c.bidder_id == bidder_id
            )
        )
    ).first()
    if row is None:
        barred = await session.scalar(select(_bidders.c.barred).where(_bidders.c.id == bidder_id))
        if barred:
            raise BidderBarred()
        exists = await session.scalar(select(_auctions.c.id).where(_auctions.c.id == auction_id))
        if exists is None:
            raise AuctionNotFound(details={"auction_id": auction_id})
        raise NoDeposit()
    if row.barred or row.status != "held":
        raise BidderBarred(details={"deposit": row.status})
    return row.id, row.priority_rank


async def _lock(session: AsyncSession, auction_id: int) -> LotState:
    """Take the lot's lock and read its live state (see the module docstring)."""
    query = select(*_LOCK_COLUMNS).where(_auctions.c.id == auction_id)
    if is_postgres(session):
        query = query.with_for_update()
    else:
        await session.execute(
            update(_auctions).where(_auctions.c.id == auction_id).values(id=_auctions.c.id)
        )
    row = (await session.execute(query)).first()
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
    row = (
        await session.execute(
            select(_bids.c.seq, _bids.c.amount).where(
                _bids.c.auction_id == auction_id,
                _bids.c.registration_id == registration_id,
                _bids.c.client_key == client_key,
            )
        )
    ).first()
    return PlacedBid(row.seq, row.amount, ends_at, replay=True) if row else None


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
    """Accept or refuse one bid; a refusal raises and writes nothing."""
    registration_id, rank = await _registration(session, auction_id, bidder_id)
    row = await _lock(session, auction_id)
    _check_window(row, received_at)
    if client_key is not None:
        replay = await _replay(session, auction_id, registration_id, client_key, row.ends_at)
        if replay is not None:
            return replay
    current = row.current_price
    leader = None if current is None else rules.Leader(current, row.leader_rank)
    refusal = rules.bid_refusal(
        amount,
        starting=row.starting_price,
        increment=row.increment,
        leader=leader,
        rank=rank,
        jump_limit=get_config().jump_confirm_increments,
        confirm_jump=confirm_jump,
    )
    if refusal is not None:
        minimum = rules.minimum_bid(
            starting=row.starting_price, increment=row.increment, current=current
        )
        raise BidRefused(
            refusal[1],
            code=refusal[0],
            status=422 if refusal[0] == "bad_increment" else 409,
            details={"current_price": current, "minimum_bid": minimum},
        )
    seq = row.bid_count + 1
    ends_at = rules.extended_end(row.ends_at, received_at)
    values = {
        "auction_id": auction_id,
        "seq": seq,
        "registration_id": registration_id,
        "amount": amount,
        "priority_match": current is not None and amount == current,
        "received_at": received_at,
        "client_key": client_key,
    }
    move = (
        update(_auctions)
        .where(_auctions.c.id == auction_id)
        .values(
            status="open",
            current_price=amount,
            leader_registration_id=registration_id,
            leader_rank=rank,
            bid_count=seq,
            ends_at=ends_at,
            updated_at=received_at,
        )
    )
    if is_postgres(session):
        # one round trip inside the lock: the insert rides along the update as a CTE
        added = insert(_bids).values(**values).returning(_bids.c.seq).cte("added")
        await session.execute(move.add_cte(added))
    else:
        await session.execute(insert(_bids).values(**values))
        await session.execute(move)
    return PlacedBid(seq, amount, ends_at)
