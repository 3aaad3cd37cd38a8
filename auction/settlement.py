"""After the hammer: the balance, the proceeds to the case, defaults, refunds, disposals.

The proceeds become a payment on the case (fees first, capped at what is owed; any surplus is
recorded as returned to the debtor), the freeze is released and the asset marked sold by the
assets domain. No commission is charged; the settlement records the commission a traditional
auctioneer would have taken (拍变 29) for the statistics. Refunds are exactly-once per deposit:
the row moves ``held → refunded`` under its lock, and the provider treats our reference as
idempotent, so a re-run after a crash between the provider's answer and our commit is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction import rules
from auction.closing import after_unsold
from auction.config import get_config
from auction.errors import NotWinner, PaymentFailed, RuleViolation, WrongState
from auction.lots import lock_auction, offer_for_sale
from auction.models import Auction, Disposal, Lot, Registration, Settlement
from auction.payments import PaymentDeclined, get_provider
from enforcement.assets.service import complete_sale
from enforcement.cases import service as cases
from enforcement.core import audit, clock
from enforcement.core.auth import Principal, ensure_court
from enforcement.core.errors import NotFound

log = logging.getLogger(__name__)


async def settlement_of(
    session: AsyncSession, auction_id: int, *, for_update: bool = False
) -> Settlement:
    """The sale confirmation of a sold round."""
    query = select(Settlement).where(Settlement.auction_id == auction_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    settlement = (await session.execute(query)).scalar_one_or_none()
    if settlement is None:
        raise NotFound("this auction has no sale confirmation", code="settlement_not_found")
    return settlement


async def _owed(session: AsyncSession, case_id: int) -> int:
    case = await cases.get_case(session, case_id)
    return case.outstanding + case.fee_outstanding if case.status == "open" else 0


async def pay_balance(
    session: AsyncSession, bidder_id: int | None, auction_id: int, now: dt.datetime
) -> Settlement:
    """The winner pays the balance by the due date; the proceeds settle the case."""
    auction = await lock_auction(session, auction_id)
    settlement = await settlement_of(session, auction_id, for_update=True)
    if settlement.bidder_id != bidder_id:
        raise NotWinner()
    if settlement.status != "awaiting_payment":
        raise WrongState(details={"settlement": settlement.status})
    if clock.local_date(now) > settlement.balance_due_on:
        raise WrongState("the balance was due earlier", code="balance_overdue")
    try:
        reference = await get_provider().collect(
            f"balance:{settlement.id}", settlement.balance, settlement.buyer_identifier
        )
    except PaymentDeclined as exc:
        raise PaymentFailed() from exc
    lot = await session.get(Lot, auction.lot_id)
    assert lot is not None
    split = rules.split_proceeds(settlement.hammer_price, await _owed(session, lot.case_id))
    if split.to_case:
        await cases.record_payment(
            session,
            lot.case_id,
            split.to_case,
            source="auction",
            fees_first=True,
            reference=f"auction:{auction.id}",
            note="online judicial auction proceeds",
        )
    await complete_sale(session, lot.asset_id, reference=f"auction:{auction.id}")
    registration = await session.get(Registration, settlement.registration_id)
    assert registration is not None
    registration.status = "applied"
    settlement.status, settlement.paid_at, settlement.payment_reference = "paid", now, reference
    settlement.to_case, settlement.surplus_returned = split.to_case, split.surplus
    lot.status = "sold"
    await session.flush()
    audit.record(
        session,
        action="auction.balance_paid",
        entity_type="auction",
        entity_id=auction.id,
        after={
            "hammer_price": settlement.hammer_price,
            "to_case": split.to_case,
            "surplus_returned": split.surplus,
            "commission_charged": 0,
            "commission_saved": settlement.commission_saved,
        },
    )
    return settlement


async def overdue_settlements(session: AsyncSession, today: dt.date) -> list[int]:
    """Sold rounds whose balance due date has passed unpaid."""
    rows = await session.execute(
        select(Settlement.auction_id).where(
            Settlement.status == "awaiting_payment", Settlement.balance_due_on < today
        )
    )
    return list(rows.scalars())


async def default_buyer(session: AsyncSession, auction_id: int, now: dt.datetime) -> bool:
    """悔拍: the deposit is forfeited, the buyer barred, the lot re-auctioned (网拍 24)."""
    auction = await lock_auction(session, auction_id)
    settlement = await settlement_of(session, auction_id, for_update=True)
    if (
        settlement.status != "awaiting_payment"
        or clock.local_date(now) <= settlement.balance_due_on
    ):
        return False
    registration = await session.get(Registration, settlement.registration_id)
    lot = await session.get(Lot, auction.lot_id)
    assert registration is not None
    assert lot is not None
    settlement.status = "defaulted"
    registration.status = "forfeited"
    auction.status, auction.updated_at = "defaulted", now
    await after_unsold(session, lot, auction, now, cut=False)
    await session.flush()
    audit.record(
        session,
        action="auction.buyer_defaulted",
        entity_type="auction",
        entity_id=auction.id,
        before={"status": "sold"},
        after={
            "status": "defaulted",
            "forfeited": registration.deposit,
            "barred": settlement.buyer_identifier[-4:],
        },
    )
    return True


async def refund_deposit(session: AsyncSession, registration_id: int, now: dt.datetime) -> bool:
    """Return one losing or unneeded deposit, exactly once; False if nothing was due."""
    registration = (
        await session.execute(
            select(Registration)
            .where(Registration.id == registration_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if registration is None or registration.status != "held":
        return False
    auction = await session.get(Auction, registration.auction_id)
    assert auction is not None
    if auction.status in ("scheduled", "open"):
        return False
    if auction.status == "sold" and auction.winner_registration_id == registration.id:
        return False
    refund_reference = await get_provider().refund(
        f"refund:{registration.id}", registration.payment_reference, registration.deposit
    )
    registration.status, registration.refunded_at = "refunded", now
    registration.refund_reference = refund_reference
    await session.flush()
    late = auction.closed_at is not None and now - auction.closed_at > dt.timedelta(
        hours=get_config().refund_alert_hours
    )
    if late:
        log.warning("deposit %s refunded after the 24-hour limit", registration.id)
    audit.record(
        session,
        action="auction.deposit_refunded",
        entity_type="auction_registration",
        entity_id=registration.id,
        after={"amount": registration.deposit, "reference": refund_reference, "late": late},
    )
    return True


async def refunds_due(session: AsyncSession) -> list[int]:
    """Held deposits of finished rounds that are not the winner's: the cron's safety net."""
    rows = await session.execute(
        select(Registration.id)
        .join(Auction, Auction.id == Registration.auction_id)
        .where(
            Registration.status == "held",
            Auction.status.in_(("sold", "failed", "cancelled", "defaulted")),
            (Auction.winner_registration_id.is_(None))
            | (Auction.winner_registration_id != Registration.id),
        )
    )
    return list(rows.scalars())


async def decide_disposal(
    session: AsyncSession,
    principal: Principal,
    auction_id: int,
    mode: str,
    note: str | None,
    now: dt.datetime,
) -> Disposal:
    """The officer's choice after a second failure: 变卖, 以物抵债 at the reserve, or release."""
    disposal = (
        await session.execute(
            select(Disposal).where(Disposal.auction_id == auction_id).with_for_update()
        )
    ).scalar_one_or_none()
    if disposal is None:
        raise NotFound("no disposal is pending for this auction", code="disposal_not_found")
    lot = await session.get(Lot, disposal.lot_id)
    assert lot is not None
    ensure_court(principal, lot.court_code)
    if disposal.status != "pending":
        raise WrongState(details={"disposal": disposal.status})
    failed = await session.get(Auction, disposal.auction_id)
    assert failed is not None
    if mode == "fixed_price_sale":
        if failed.mode == "sale":
            raise RuleViolation(
                "the fixed-price sale already failed: take the asset in lieu or release it",
                code="sale_already_failed",
            )
        sale = await offer_for_sale(session, lot, failed, now=now)
        disposal.sale_auction_id = sale.id
    elif mode == "in_lieu":
        split = rules.split_proceeds(disposal.price, await _owed(session, lot.case_id))
        if split.to_case:
            await cases.record_payment(
                session,
                lot.case_id,
                split.to_case,
                source="in_lieu",
                fees_first=True,
                reference=f"auction-lot:{lot.id}",
                note="以物抵债 at the failed auction's reserve",
            )
        await complete_sale(session, lot.asset_id, reference=f"in-lieu:{lot.id}")
        disposal.to_case, disposal.excess_due = split.to_case, split.surplus
        lot.status = "in_lieu"
    elif mode == "released":
        lot.status = "closed"
    disposal.status, disposal.note, disposal.decided_at = mode, note, now
    await session.flush()
    audit.record(
        session,
        action="auction.disposal_decided",
        entity_type="auction_lot",
        entity_id=lot.id,
        before={"status": "pending"},
        after={
            "status": mode,
            "to_case": disposal.to_case,
            "sale_auction_id": disposal.sale_auction_id,
        },
    )
    return disposal
