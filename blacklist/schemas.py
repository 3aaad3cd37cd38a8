"""Request and response models of the lists API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from blacklist.normalize import fold, upgrade_legacy_id
from enforcement.core.identifiers import validate_credit_code, validate_resident_id
from enforcement.core.schemas import Schema

ChangeType = Literal["listed", "updated", "removed"]


class ListingCreate(Schema):
    """A listing decision; the flags are the 失信 Art 3 circumstances the officer attests."""

    case_id: int
    party_id: int
    kind: str = Field(description="dishonest (失信) or restricted (限制消费)")
    grounds: list[str] = Field(default_factory=list, max_length=6)
    years: int | None = Field(default=None, description="term for grounds 2–6: 2, up to 5")
    aggravated: bool = Field(default=False, description="serious violent obstruction (term +1–3)")
    adequately_secured: bool = Field(default=False, description="失信 3(1): adequate security")
    later_in_order: bool = Field(default=False, description="失信 3(3): later in the order")
    requested_by_applicant: bool = Field(default=False, description="the applicant applied")


class ListingRemoval(Schema):
    reason: str | None = Field(default=None, description="a removal reason code")
    note: str | None = Field(default=None, max_length=2000)


class ListingRecord(BaseModel):
    """The full record of a listing, as the feed, the export and screening give it."""

    model_config = {"extra": "allow"}

    id: int
    version: int
    kind: str
    status: str
    grounds: list[str]
    implied_by_id: int | None
    subject_kind: str
    name: str
    id_number: str | None
    credit_code: str | None
    sex: str | None
    birth_year: int | None
    legal_representative: str | None
    legal_representative_id_number: str | None
    case_id: int
    case_number: str
    court_code: str
    filed_on: dt.date
    basis: str
    starts_on: dt.date
    ends_on: dt.date | None
    removal_reason: str | None
    removed_at: dt.datetime | None
    deletion_deadline: dt.date | None = None
    updated_at: dt.datetime


class FeedEvent(BaseModel):
    seq: int
    type: ChangeType
    at: dt.datetime
    reason: str | None = None
    listing: ListingRecord


class FeedPage(BaseModel):
    """A page of the feed; store ``next`` and pass it as ``after`` to continue."""

    events: list[FeedEvent]
    next: int


class ScreenRequest(Schema):
    """Who to screen: identifiers decide, a name only nominates candidates."""

    id_number: str | None = Field(default=None, max_length=40)
    credit_code: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return validate_resident_id(upgrade_legacy_id(fold(value))) if value else None

    @field_validator("credit_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        return validate_credit_code(value) if value else None


class ScreenMatch(BaseModel):
    listing: ListingRecord
    score: float
    matched_on: str


class ScreenResult(BaseModel):
    """``decided``: an identifier answered; ``restricted``/``dishonest`` then say the outcome."""

    matches: list[ScreenMatch]
    decided: bool
    dishonest: bool | None
    restricted: bool | None
    reasons: list[str]
    hint: str | None = None


class WebhookCreate(Schema):
    url: str = Field(max_length=2000)
    types: list[ChangeType] | None = Field(default=None, description="default: every type")
    payload: Literal["full", "thin"] = Field(
        default="full", description="thin: ids only; the consumer pulls the feed"
    )


class WebhookRead(Schema):
    id: int
    url: str
    types: list[str] | None
    payload: str
    status: str
    delivered_seq: int
    failures: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="whsec_…: shown once, verify signatures with it")


class WebhookDeliveryRead(Schema):
    seq: int
    message_id: str
    attempt: int
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    at: dt.datetime


def public_record(record: dict[str, Any], mask: Any) -> dict[str, Any]:
    """The public tier: ID numbers masked (rules.md §4.1), nothing internal."""
    out = dict(record)
    for key in ("id_number", "legal_representative_id_number"):
        if out.get(key):
            out[key] = mask(out[key])
    out.pop("deletion_deadline", None)
    return out
