"""What the public and the court see: announcements, live state, results, confirmations.

Bidders stay anonymous codes until the close (网拍 18); afterwards the buyer is published
masked here, in full only in the court's sale confirmation (网拍 22).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction import rules
from auction.errors import AuctionNotFound
from auction.models import Auction, Bid, Bidder, Lot, PriorityHolder, Registration, Settlement
from auction.schemas import AuctionRead, AuctionSummary, BidLine, SettlementRead, Winner
from enforcement.core.identifiers import mask_id_number
from enforcement.core.schemas import decode_cursor, encode_cursor

PUBLIC_STATUSES = ("scheduled", "open", "sold", "failed", "defaulted", "cancelled")


def public_status(auction: Auction, now: dt.datetime) -> str:
    """The status a watcher sees: a round whose start has passed is open even before the cron."""
    if auction.status == "scheduled" and now >= auction.starts_at:
        return "open"
    return auction.status


async def auction_view(session: AsyncSession, auction_id: int, now: dt.datetime) -> AuctionRead:
    """The announcement and live state of one round, with its anonymous bid history."""
    row = (
        await session.execute(
            select(Auction, Lot).join(Lot, Lot.id == Auction.lot_id).where(Auction.id == auction_id)
        )
    ).first()
    if row is None:
        raise AuctionNotFound(details={"auction_id": auction_id})
    auction, lot = row
    bids = (
        await session.execute(
            select(Bid.seq, Bid.amount, Bid.priority_match, Bid.received_at, Registration.code)
            .join(Registration, Registration.id == Bid.registration_id)
            .where(Bid.auction_id == auction_id)
            .order_by(Bid.seq)
        )
    ).all()
    holders = await session.scalar(
        select(func.count())
        .select_from(PriorityHolder)
        .where(PriorityHolder.auction_id == auction_id)
    )
    winner = None
    if auction.status in ("sold", "defaulted") and auction.winner_registration_id:
        found = (
            await session.execute(
                select(Registration.code, Bidder.name, Bidder.id_number, Bidder.credit_code)
                .join(Bidder, Bidder.id == Registration.bidder_id)
                .where(Registration.id == auction.winner_registration_id)
            )
        ).first()
        if found is not None:
            winner = Winner(
                bidder=rules.bidder_label(found.code),
                name=rules.mask_name(found.name),
                identifier=mask_id_number(found.id_number or found.credit_code or ""),
            )
    return AuctionRead(
        id=auction.id,
        lot_id=lot.id,
        round=auction.round,
        mode=auction.mode,
        previous_id=auction.previous_id,
        court_code=auction.court_code,
        asset_id=lot.asset_id,
        kind=lot.kind,
        description=lot.description,
        status=public_status(auction, now),
        appraisal_price=lot.appraisal_price,
        starting_price=auction.starting_price,
        deposit=auction.deposit,
        increment=auction.increment,
        announced_at=auction.announced_at,
        starts_at=auction.starts_at,
        ends_at=auction.ends_at,
        current_price=auction.current_price,
        minimum_bid=rules.minimum_bid(
            starting=auction.starting_price,
            increment=auction.increment,
            current=auction.current_price,
        ),
        bid_count=auction.bid_count,
        priority_holders=holders or 0,
        bids=[
            BidLine(
                seq=b.seq,
                bidder=rules.bidder_label(b.code),
                amount=b.amount,
                priority=b.priority_match,
                at=b.received_at,
            )
            for b in bids
        ],
        winner=winner,
        hammer_price=auction.hammer_price,
        commission=0 if auction.hammer_price is not None else None,
        closed_at=auction.closed_at,
    )


async def list_auctions(
    session: AsyncSession, now: dt.datetime, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[AuctionSummary], str | None]:
    """Rounds newest first, filtered by the status a watcher sees."""
    query = (
        select(Auction, Lot)
        .join(Lot, Lot.id == Auction.lot_id)
        .order_by(Auction.id.desc())
        .limit(limit + 1)
    )
    if status == "open":
        query = query.where(
            or_(
                Auction.status == "open",
                (Auction.status == "scheduled") & (Auction.starts_at <= now),
            )
        )
    elif status == "scheduled":
        query = query.where(Auction.status == "scheduled", Auction.starts_at > now)
    elif status:
        query = query.where(Auction.status == status)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Auction.id < int(after.get("id", 0)))
    rows = (await session.execute(query)).all()
    items = [
        AuctionSummary(
            id=a.id,
            round=a.round,
            mode=a.mode,
            court_code=a.court_code,
            kind=lot.kind,
            description=lot.description,
            status=public_status(a, now),
            starting_price=a.starting_price,
            current_price=a.current_price,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            bid_count=a.bid_count,
            hammer_price=a.hammer_price,
        )
        for a, lot in rows[:limit]
    ]
    next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
    return items, next_cursor


async def settlement_view(session: AsyncSession, settlement: Settlement) -> SettlementRead:
    """The sale confirmation in full, for the court."""
    code = await session.scalar(
        select(Registration.code).where(Registration.id == settlement.registration_id)
    )
    return SettlementRead(
        auction_id=settlement.auction_id,
        status=settlement.status,
        buyer_name=settlement.buyer_name,
        buyer_identifier=settlement.buyer_identifier,
        bidder=rules.bidder_label(code or ""),
        hammer_price=settlement.hammer_price,
        deposit_applied=settlement.deposit_applied,
        balance=settlement.balance,
        balance_due_on=settlement.balance_due_on,
        paid_at=settlement.paid_at,
        to_case=settlement.to_case,
        surplus_returned=settlement.surplus_returned,
        commission_charged=settlement.commission_charged,
        commission_saved=settlement.commission_saved,
    )
