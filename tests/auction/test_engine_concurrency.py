"""Many bidders at once on PostgreSQL: one strictly ordered history, whatever the interleaving.

Each task has its own unit of work (its own connection), as separate API processes would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random

from sqlalchemy import func, select

from auction import closing, engine
from auction.errors import AuctionClosed, BidRefused
from auction.invariants import history_violations
from auction.models import Auction, Bidder, Registration, Settlement
from enforcement.core import clock, db
from tests.auction.helpers import new_auction
from tests.conftest import requires_postgres
from tests.factories import person_id

pytestmark = requires_postgres

TASKS = 50


async def _bidders(auction: dict, count: int, ranks: dict[int, int] | None = None) -> list[int]:
    """``count`` registered bidders inserted directly (fast set-up); returns bidder ids."""
    ranks = ranks or {}
    now = clock.now()
    async with db.unit_of_work() as s:
        bidders = [
            Bidder(
                kind="person",
                name=f"b{i}",
                id_number=person_id(),
                phone="13800000000",
                barred=False,
                created_at=now,
            )
            for i in range(count)
        ]
        s.add_all(bidders)
        await s.flush()
        for i, b in enumerate(bidders):
            s.add(
                Registration(
                    auction_id=auction["id"],
                    bidder_id=b.id,
                    code=f"{i:04X}",
                    priority_rank=ranks.get(i),
                    deposit=auction_deposit(auction),
                    payment_reference=f"p{i}",
                    status="held",
                    paid_at=now,
                )
            )
        return [b.id for b in bidders]


def auction_deposit(auction: dict) -> int:
    return int(auction["deposit"].replace(".", ""))


async def _bidder_loop(
    auction_id: int, bidder_id: int, tries: int, stamp, rank: int | None, accepted: list[int]
) -> None:
    """Bid the minimum, learn the new minimum from refusals, repeat (holders also match)."""
    minimum = 700000_00
    rng = random.Random(bidder_id)
    for _ in range(tries):
        amount = minimum + rng.choice((0, 0, 1)) * 10000_00
        if rank is not None and rng.random() < 0.5 and minimum > 700000_00:
            amount = minimum - 10000_00  # try to match the current price
        try:
            async with db.unit_of_work() as s:
                placed = await engine.place_bid(
                    s,
                    auction_id=auction_id,
                    bidder_id=bidder_id,
                    amount=amount,
                    received_at=stamp(),
                )
            accepted.append(placed.seq)
            minimum = placed.amount + 10000_00
        except BidRefused as refusal:
            minimum = refusal.details["minimum_bid"]
        except AuctionClosed:
            return


async def test_fifty_concurrent_bidders_make_one_history(client, officer, frozen_clock):
    auction = await new_auction(client, officer)
    frozen_clock.set(dt.datetime.fromisoformat(auction["starts_at"]) + dt.timedelta(hours=2))
    ids = await _bidders(auction, TASKS, ranks={0: 1, 1: 1, 2: 2})
    accepted: list[int] = []
    await asyncio.gather(
        *(
            _bidder_loop(auction["id"], bid_id, 8, clock.now, {0: 1, 1: 1, 2: 2}.get(i), accepted)
            for i, bid_id in enumerate(ids)
        )
    )
    async with db.unit_of_work() as s:
        assert await history_violations(s, auction["id"]) == []
        count = (await s.get(Auction, auction["id"])).bid_count
    assert sorted(accepted) == list(range(1, count + 1))
    assert count >= 10  # bids were accepted under contention (most attempts lose races)


async def test_late_bids_extend_and_stop_at_the_end(client, officer, frozen_clock):
    auction = await new_auction(client, officer)
    ends = dt.datetime.fromisoformat(auction["ends_at"])
    ids = await _bidders(auction, TASKS)
    ticks = itertools.count()

    # stamps 7 s apart from 2 min before the end: every accepted bid is late and extends.
    def stamp() -> dt.datetime:
        return ends - dt.timedelta(minutes=2) + dt.timedelta(seconds=7 * next(ticks))

    accepted: list[int] = []
    await asyncio.gather(*(_bidder_loop(auction["id"], b, 6, stamp, None, accepted) for b in ids))
    async with db.unit_of_work() as s:
        assert await history_violations(s, auction["id"]) == []
        row = await s.get(Auction, auction["id"])
    assert row.ends_at > ends
    assert len(accepted) == row.bid_count


async def test_close_racing_bids_finalizes_once_with_the_last_bid(client, officer, frozen_clock):
    auction = await new_auction(client, officer)
    ends = dt.datetime.fromisoformat(auction["ends_at"])
    ids = await _bidders(auction, TASKS)
    frozen_clock.set(ends + dt.timedelta(seconds=10))  # the close is due now

    def stamp() -> dt.datetime:  # every bid entered the system just before the end
        return ends - dt.timedelta(minutes=6)

    async def close() -> str:
        async with db.unit_of_work() as s:
            return await closing.close_auction(s, auction["id"], clock.now())

    accepted: list[int] = []
    results = await asyncio.gather(
        *(_bidder_loop(auction["id"], b, 3, stamp, None, accepted) for b in ids),
        close(),
        close(),
        close(),
    )
    outcomes = [r for r in results if r is not None]
    assert sorted(outcomes).count("already_sold") + sorted(outcomes).count("already_failed") == 2
    async with db.unit_of_work() as s:
        assert await history_violations(s, auction["id"]) == []
        row = await s.get(Auction, auction["id"])
        settlements = await s.scalar(select(func.count()).select_from(Settlement))
    if row.status == "sold":
        assert row.hammer_price == row.current_price and settlements == 1
    else:
        assert row.bid_count == 0 and settlements == 0
    assert len(accepted) == row.bid_count
