"""Tables of the auction domain: lots, auction rounds, bidders, deposits, bids, aftermath.

A lot is one asset put up for sale; each auction is one round of it (first auction,
re-auction after a failure or a default). The schema guards the engine: ``UNIQUE(auction_id,
seq)`` makes the bid history gap- and duplicate-free, a bidder's client key is unique per
auction, and CHECKs keep prices positive and the commission at zero.
``asset_id`` references the assets domain's table (its migration 0002 runs before ours).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from enforcement.core.db import Base, BigId, Fen, UTCDateTime

AUCTION_STATUSES = ("scheduled", "open", "sold", "failed", "defaulted", "cancelled")
LIVE_STATUSES = ("scheduled", "open")


class Lot(Base):
    """One frozen asset on sale; ``status`` active|sold|disposal|in_lieu|closed|cancelled."""

    __tablename__ = "auction_lots"
    __table_args__ = (Index("ix_auction_lots_asset_status", "asset_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    court_code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    appraisal_price: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Auction(Base):
    """One round of a lot. The row is the lot's lock: every bid and the close take it.

    After two failed auctions the officer may offer the lot once more as an online fixed-price
    sale (变卖): a round with ``mode="sale"`` that the same engine runs.
    """

    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("starting_price > 0", name="starting_positive"),
        CheckConstraint("deposit > 0", name="deposit_positive"),
        CheckConstraint("increment > 0", name="increment_positive"),
        CheckConstraint("bid_count >= 0", name="bid_count_nonnegative"),
        CheckConstraint(
            "status IN ('scheduled', 'open', 'sold', 'failed', 'defaulted', 'cancelled')",
            name="status",
        ),
        CheckConstraint("mode IN ('auction', 'sale')", name="mode"),
        Index("ix_auctions_status_ends_at", "status", "ends_at"),
        Index("ix_auctions_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("auction_lots.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16), default="auction", server_default="auction")
    """``auction`` (拍卖) or ``sale`` (变卖: fixed price, 60 days, the first bid opens 24 h)."""
    previous_id: Mapped[int | None] = mapped_column(BigInteger)
    court_code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    starting_price: Mapped[int] = mapped_column(Fen)
    deposit: Mapped[int] = mapped_column(Fen)
    increment: Mapped[int] = mapped_column(Fen)
    announced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    scheduled_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    current_price: Mapped[int | None] = mapped_column(Fen)
    leader_registration_id: Mapped[int | None] = mapped_column(BigInteger)
    leader_rank: Mapped[int | None] = mapped_column(Integer)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    hammer_price: Mapped[int | None] = mapped_column(Fen)
    winner_registration_id: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PriorityHolder(Base):
    """A court-confirmed priority purchase right holder (优先购买权人) of one round."""

    __tablename__ = "auction_priority_holders"
    __table_args__ = (
        UniqueConstraint("auction_id", "id_number"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str] = mapped_column(String(18))
    rank: Mapped[int] = mapped_column(Integer)


class Bidder(Base):
    """A real-name bidder; ``barred`` flags court and platform staff (网拍 34)."""

    __tablename__ = "auction_bidders"
    __table_args__ = (
        Index("ix_auction_bidders_id_number", "id_number"),
        Index("ix_auction_bidders_credit_code", "credit_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(32))
    barred: Mapped[bool] = mapped_column(Boolean, default=False)
    barred_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    @property
    def identifier(self) -> str:
        """ID number or credit code: what bars and priority rights match on."""
        return self.id_number or self.credit_code or ""


class Registration(Base):
    """A bidder's paid deposit for one round, with its anonymous code and priority rank.

    ``status``: held → refunded (losers, cancelled, failed) | applied (winner who paid)
    | forfeited (winner who defaulted).
    """

    __tablename__ = "auction_registrations"
    __table_args__ = (
        UniqueConstraint("auction_id", "bidder_id"),
        UniqueConstraint("auction_id", "code"),
        Index("ix_auction_registrations_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("auction_bidders.id"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    priority_rank: Mapped[int | None] = mapped_column(Integer)
    deposit: Mapped[int] = mapped_column(Fen)
    payment_reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="held")
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    refund_reference: Mapped[str | None] = mapped_column(String(64))
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Bid(Base):
    """An accepted bid. ``seq`` 1..n per auction, no gaps, no duplicates."""

    __tablename__ = "auction_bids"
    __table_args__ = (
        UniqueConstraint("auction_id", "seq"),
        UniqueConstraint("auction_id", "registration_id", "client_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("seq > 0", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    registration_id: Mapped[int] = mapped_column(ForeignKey("auction_registrations.id"))
    amount: Mapped[int] = mapped_column(Fen)
    priority_match: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    client_key: Mapped[str | None] = mapped_column(String(200))


class Settlement(Base):
    """The sale confirmation (成交确认书) with the buyer's real identity, and its payment.

    ``status``: awaiting_payment → paid | defaulted. No commission is ever charged; the
    commission a traditional auctioneer would have taken is kept for the statistics.
    """

    __tablename__ = "auction_settlements"
    __table_args__ = (
        CheckConstraint("commission_charged = 0", name="zero_commission"),
        Index("ix_auction_settlements_status_due", "status", "balance_due_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("auction_lots.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("auction_registrations.id"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("auction_bidders.id"))
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_identifier: Mapped[str] = mapped_column(String(18))
    hammer_price: Mapped[int] = mapped_column(Fen)
    deposit_applied: Mapped[int] = mapped_column(Fen)
    balance: Mapped[int] = mapped_column(Fen)
    balance_due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="awaiting_payment")
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    to_case: Mapped[int] = mapped_column(Fen, default=0)
    surplus_returned: Mapped[int] = mapped_column(Fen, default=0)
    commission_charged: Mapped[int] = mapped_column(Fen, default=0)
    commission_saved: Mapped[int] = mapped_column(Fen)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Disposal(Base):
    """After a second failure: what the officer does with the lot (网拍 26 ¶2, 拍变 16).

    ``status``: pending → fixed_price_sale (变卖) | in_lieu (以物抵债) | released. A failed
    fixed-price sale leaves a new pending disposal, decided in lieu or released.
    """

    __tablename__ = "auction_disposals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("auction_lots.id"), index=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), unique=True)
    price: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    to_case: Mapped[int] = mapped_column(Fen, default=0)
    excess_due: Mapped[int] = mapped_column(Fen, default=0)
    sale_auction_id: Mapped[int | None] = mapped_column(BigInteger)
    """The fixed-price sale round (变卖) this disposal opened, if the officer chose one."""
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
