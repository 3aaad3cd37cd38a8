"""Request and response models of the auction API (contract: api.md, Auctions)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from enforcement.core.identifiers import validate_credit_code, validate_resident_id
from enforcement.core.money import PositiveAmountIn, Yuan
from enforcement.core.schemas import Schema


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("invalid_datetime", "times need a timezone offset")
    return value


class PriorityHolderIn(Schema):
    """A court-confirmed priority purchase right holder; lower rank wins ties."""

    name: str = Field(min_length=1, max_length=200)
    id_number: str
    rank: int = Field(ge=1, le=99)

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        return validate_resident_id(value)


class AuctionCreate(Schema):
    """A first auction of a frozen asset; the rules of rules.md §1.1 are checked."""

    asset_id: int
    appraisal_price: PositiveAmountIn
    starting_price: PositiveAmountIn
    deposit: PositiveAmountIn
    increment: PositiveAmountIn
    starts_at: dt.datetime
    ends_at: dt.datetime
    priority_holders: list[PriorityHolderIn] = Field(default_factory=list, max_length=50)

    _aware_times = field_validator("starts_at", "ends_at")(_aware)

    @model_validator(mode="after")
    def _distinct_holders(self) -> AuctionCreate:
        ids = [h.id_number for h in self.priority_holders]
        if len(ids) != len(set(ids)):
            raise PydanticCustomError("invalid_priority_holders", "a holder is listed twice")
        return self


class AuctionCancel(Schema):
    reason: str = Field(min_length=1, max_length=500)


class BidLine(Schema):
    """One accepted bid as the public sees it: an anonymous label, never an identity."""

    seq: int
    bidder: str
    amount: Yuan
    priority: bool
    at: dt.datetime


class Winner(Schema):
    """The published buyer after the close (网拍 22), masked for the public page."""

    bidder: str
    name: str
    identifier: str


class AuctionRead(Schema):
    """The public announcement and live state of one auction round."""

    id: int
    lot_id: int
    round: int
    mode: Literal["auction", "sale"] = Field(
        description="auction (拍卖), or sale: the online fixed-price sale (变卖) after two "
        "failed auctions, whose first bid at the price opens a 24-hour bidding window"
    )
    previous_id: int | None
    court_code: str
    asset_id: int
    kind: str
    description: str
    status: str
    appraisal_price: Yuan
    starting_price: Yuan
    deposit: Yuan
    increment: Yuan
    announced_at: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime
    current_price: Yuan | None
    minimum_bid: Yuan
    bid_count: int
    priority_holders: int
    bids: list[BidLine]
    winner: Winner | None = None
    hammer_price: Yuan | None = None
    commission: Yuan | None = None
    closed_at: dt.datetime | None = None


class AuctionSummary(Schema):
    """A line of the public auction list."""

    id: int
    round: int
    mode: Literal["auction", "sale"]
    court_code: str
    kind: str
    description: str
    status: str
    starting_price: Yuan
    current_price: Yuan | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    bid_count: int
    hammer_price: Yuan | None = None


class BidderCreate(Schema):
    """A real-name bidder: a person (id_number) or an organization (credit_code)."""

    name: str = Field(min_length=1, max_length=200)
    id_number: str | None = None
    credit_code: str | None = None
    phone: str = Field(pattern=r"^\+?[0-9][0-9 -]{5,30}$")

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return validate_resident_id(value) if value is not None else None

    @field_validator("credit_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        return validate_credit_code(value) if value is not None else None

    @model_validator(mode="after")
    def _one_identifier(self) -> BidderCreate:
        if (self.id_number is None) == (self.credit_code is None):
            raise PydanticCustomError(
                "missing_identifier", "give exactly one of id_number or credit_code"
            )
        return self


class BidderCreated(Schema):
    """The bidder's id and its token, shown once."""

    id: int
    token: str


class BidderBar(Schema):
    reason: str = Field(min_length=1, max_length=500)


class RegistrationRead(Schema):
    """A paid deposit: the bidder's anonymous code for this round."""

    id: int
    auction_id: int
    code: str
    bidder: str
    deposit: Yuan
    priority_rank: int | None
    status: str
    payment_reference: str
    paid_at: dt.datetime


class BidCreate(Schema):
    """A bid in yuan; ``confirm_jump`` acknowledges a bid far above the current price."""

    amount: PositiveAmountIn
    confirm_jump: bool = False


class BidPlaced(Schema):
    seq: int
    amount: Yuan
    ends_at: dt.datetime


class SettlementRead(Schema):
    """The sale confirmation with the buyer's real identity (court staff only)."""

    auction_id: int
    status: str
    buyer_name: str
    buyer_identifier: str
    bidder: str
    hammer_price: Yuan
    deposit_applied: Yuan
    balance: Yuan
    balance_due_on: dt.date
    paid_at: dt.datetime | None
    to_case: Yuan
    surplus_returned: Yuan
    commission_charged: Yuan
    commission_saved: Yuan


class DisposalDecide(Schema):
    """The officer's choice after a second failure."""

    mode: Literal["fixed_price_sale", "in_lieu", "released"]
    note: str | None = Field(default=None, max_length=500)


class DisposalRead(Schema):
    auction_id: int
    lot_id: int
    price: Yuan
    status: str
    to_case: Yuan
    excess_due: Yuan
    sale_auction_id: int | None = Field(
        default=None, description="the fixed-price sale round opened by this decision"
    )
    note: str | None
    decided_at: dt.datetime | None
