"""Request and response models of the assets API (money as yuan strings, fen inside)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from enforcement.core.money import PositiveAmountIn, Yuan
from enforcement.core.schemas import Schema

AssetKind = Literal["deposit", "vehicle", "securities", "equity"]


class InquiryCreate(Schema):
    """Optional purpose (recorded with the operator) and a subset of registries."""

    purpose: str | None = Field(default=None, max_length=500)
    registries: list[str] | None = Field(default=None, max_length=20)


class InquiryAccepted(Schema):
    id: int
    status: str


class RegistryProgressRead(Schema):
    registry: str
    status: Literal["pending", "running", "done", "failed"]
    error: str | None
    assets_found: int


class InquiryRead(Schema):
    id: int
    case_id: int
    status: Literal["pending", "running", "done", "partial"]
    purpose: str
    operator: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    registries: list[RegistryProgressRead]


class FreezeRead(Schema):
    id: int
    asset_id: int
    case_id: int
    status: Literal["active", "queued", "rejected", "released", "expired"]
    requested: Yuan
    frozen: Yuan
    deducted: Yuan
    starts_on: dt.date
    expires_on: dt.date | None
    renewals: int
    registry_reference: str | None
    order_number: str
    reason: str | None
    created_at: dt.datetime
    released_at: dt.datetime | None


class AssetRead(Schema):
    id: int
    case_id: int
    party_id: int
    kind: AssetKind
    registry: str
    registry_ref: str
    identifiers: dict[str, str] = Field(description="the registry's own identifiers")
    description: str
    value: Yuan
    currency: str
    holder: str
    status: Literal["present", "gone", "sold"]
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    gone_at: dt.datetime | None
    freeze: FreezeRead | None


class FreezeCreate(Schema):
    """``amount`` for deposits only (default: the balance, cut to what is owed)."""

    amount: PositiveAmountIn | None = None


class FreezeRenew(Schema):
    """``until`` asks for a shorter renewal than the legal maximum."""

    until: dt.date | None = None


class FreezeRelease(Schema):
    reason: str | None = Field(default=None, max_length=500)


class FreezeDeduct(Schema):
    """``amount`` defaults to everything frozen, cut to what the case is owed."""

    amount: PositiveAmountIn | None = None


class SweepAccepted(Schema):
    id: int


class SweepRead(Schema):
    id: int
    run_date: dt.date
    trigger: str
    status: Literal["running", "done"]
    subjects_total: int
    subjects_done: int
    assets_new: int
    assets_changed: int
    assets_gone: int
    errors: dict[str, dict[str, Any]] = Field(
        description="per registry: number of subjects it failed for and the last error"
    )
    started_at: dt.datetime
    finished_at: dt.datetime | None
