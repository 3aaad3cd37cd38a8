"""Request and response models of the lists API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from blacklist.normalize import fold, upgrade_legacy_id
from enforcement.core.identifiers import validate_credit_code, validate_resident_id
from enforcement.core.schemas import Schema

ChangeType = Literal["listed", "updated", "removed"]
RelatedRole = Literal[
    "legal_representative", "principal", "directly_responsible", "actual_controller"
]


class RelatedPersonIn(Schema):
    """A person an organization's restriction also covers (限消 Art 3): named and identified,
    so that screening by their ID number decides."""

    role: RelatedRole = Field(
        description="legal_representative, principal (主要负责人), directly_responsible "
        "(直接责任人员) or actual_controller (实际控制人)"
    )
    name: str = Field(min_length=1, max_length=200)
    id_number: str = Field(max_length=40, description="resident ID number (checksum validated)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a name is required")
        return value.strip()

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        return validate_resident_id(upgrade_legacy_id(fold(value)))


class RelatedPerson(BaseModel):
    """A related person as the record publishes it (ID masked in the public tier)."""

    role: str
    name: str
    id_number: str | None


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
    related_persons: list[RelatedPersonIn] | None = Field(
        default=None,
        max_length=20,
        description="organizations only: persons restricted with it; the party's legal "
        "representative is added unless one is named here",
    )


class ListingCorrection(Schema):
    """A correction of an inaccurate listing (失信 Art 12, within 3 working days): the fields
    given replace the current ones, the rest stay; the term still counts from the start."""

    grounds: list[str] | None = Field(default=None, max_length=6)
    years: int | None = Field(default=None, description="term for grounds 2–6: 2, up to 5")
    aggravated: bool | None = Field(default=None, description="serious violent obstruction")
    adequately_secured: bool = Field(default=False, description="失信 3(1), for ground 1")
    later_in_order: bool = Field(default=False, description="失信 3(3), for ground 1")
    related_persons: list[RelatedPersonIn] | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=2000, description="what was inaccurate")


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
    related_persons: list[RelatedPerson] = Field(default_factory=list)
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
    if out.get("related_persons"):
        out["related_persons"] = [
            {**p, "id_number": mask(p["id_number"]) if p.get("id_number") else None}
            for p in out["related_persons"]
        ]
    out.pop("deletion_deadline", None)
    return out
