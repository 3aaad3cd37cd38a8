"""The bid history's invariants, checked after the fact (tests, the benchmark, an audit).

For one round: seq is exactly 1..n; amounts strictly increase except a priority holder's
match of the current price; the round's current price and count equal the last bid and n;
every bid was received before the end in force when it was taken; and the end is the
scheduled end moved to five minutes after the latest late bid.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction import rules
from auction.models import Auction, Bid


async def history_violations(session: AsyncSession, auction_id: int) -> list[str]:
    """Every broken invariant of a round's history, as sentences; empty when sound."""
    auction = (
        await session.execute(
            select(Auction)
            .where(Auction.id == auction_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    bids = (
        await session.execute(
            select(Bid.seq, Bid.amount, Bid.priority_match, Bid.received_at)
            .where(Bid.auction_id == auction_id)
            .order_by(Bid.seq)
        )
    ).all()
    problems: list[str] = []
    seqs = [b.seq for b in bids]
    if seqs != list(range(1, len(bids) + 1)):
        problems.append(f"seq is not 1..{len(bids)} without gaps")
    end = auction.scheduled_end
    previous: int | None = None
    for b in bids:
        if previous is not None:
            if b.amount < previous or (b.amount == previous and not b.priority_match):
                problems.append(f"bid {b.seq} does not rise above {previous}")
        if b.received_at >= end:
            problems.append(f"bid {b.seq} was received after the end in force")
        end = rules.extended_end(end, b.received_at)
        previous = b.amount
    if auction.bid_count != len(bids):
        problems.append(f"bid_count {auction.bid_count} != {len(bids)} bids")
    if auction.current_price != previous:
        problems.append(f"current price {auction.current_price} != last bid {previous}")
    if auction.ends_at != end:
        problems.append(f"ends_at {auction.ends_at} != expected {end}")
    return problems
