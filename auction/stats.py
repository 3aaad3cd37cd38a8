"""The auction's figures in ``GET /stats``: proceeds, commission saved, sold and failed rounds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.models import Auction, Settlement
from enforcement.core import clock
from enforcement.core.money import format_yuan


async def auction_stats(
    session: AsyncSession, date_from: dt.date, date_to: dt.date, court_code: str | None
) -> dict[str, Any]:
    """Rounds closed in the period by outcome; money (yuan strings) of balances paid in it."""
    start = clock.start_of_local_day(date_from)
    end = clock.start_of_local_day(date_to + dt.timedelta(days=1))
    scope = [Auction.court_code == court_code] if court_code else []
    closed = (
        await session.execute(
            select(Auction.status, func.count())
            .where(*scope, Auction.closed_at >= start, Auction.closed_at < end)
            .group_by(Auction.status)
        )
    ).all()
    counts = {status: count for status, count in closed}
    money = (
        await session.execute(
            select(
                func.coalesce(func.sum(Settlement.hammer_price), 0),
                func.coalesce(func.sum(Settlement.commission_saved), 0),
                func.coalesce(func.sum(Settlement.to_case), 0),
            )
            .join(Auction, Auction.id == Settlement.auction_id)
            .where(
                *scope,
                Settlement.status == "paid",
                Settlement.paid_at >= start,
                Settlement.paid_at < end,
            )
        )
    ).one()
    return {
        "sold": counts.get("sold", 0) + counts.get("defaulted", 0),
        "failed": counts.get("failed", 0),
        "defaulted": counts.get("defaulted", 0),
        "cancelled": counts.get("cancelled", 0),
        "proceeds": format_yuan(int(money[0])),
        "to_cases": format_yuan(int(money[2])),
        "commission_charged": format_yuan(0),
        "commission_saved": format_yuan(int(money[1])),
    }
