"""Request and response models of the case API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from enforcement.core.identifiers import (
    CreditCode,
    ResidentId,
    birth_date_of,
    normalize_case_number,
)
from enforcement.core.money import PositiveAmountIn, Yuan
from enforcement.core.schemas import Schema


class PartyCreate(Schema):
    """A party as the officer enters it; identifiers are checksum-validated."""

    kind: Literal["person", "organization"]
    name: str = Field(min_length=1, max_length=200)
    id_number: ResidentId | None = None
    credit_code: CreditCode | None = None
    birth_date: dt.date | None = None
    legal_representative: str | None = Field(default=None, max_length=200)
    legal_representative_id_number: ResidentId | None = None

    @model_validator(mode="after")
    def _identifier_for_kind(self) -> PartyCreate:
        if self.kind == "person" and not self.id_number:
            raise PydanticCustomError("missing_identifier", "a person needs an id_number")
        if self.kind == "organization" and not self.credit_code:
            raise PydanticCustomError("missing_identifier", "an organization needs a credit_code")
        if self.kind == "person" and self.credit_code:
            raise PydanticCustomError("invalid_party", "a person has no credit_code")
        if self.kind == "organization" and self.id_number:
            raise PydanticCustomError("invalid_party", "an organization has no id_number")
        if self.kind == "person" and self.id_number:
            encoded = birth_date_of(self.id_number)
            if self.birth_date is not None and self.birth_date != encoded:
                raise PydanticCustomError(
                    "birth_date_mismatch", "birth_date differs from the one in the ID number"
                )
            self.birth_date = encoded
        return self


class PartyRead(Schema):
    id: int
    kind: str
    name: str
    id_number: str | None
    credit_code: str | None
    birth_date: dt.date | None
    legal_representative: str | None


class CaseCreate(Schema):
    """A new enforcement case."""

    case_number: str = Field(examples=["（2020）甘0602执1234号"])
    filed_on: dt.date
    principal: PositiveAmountIn = Field(description="amount owed, yuan as a decimal string")
    basis: str = Field(min_length=1, max_length=200, description="judgment document number")
    applicant: PartyCreate
    respondents: list[PartyCreate] = Field(min_length=1, max_length=50)

    @field_validator("case_number")
    @classmethod
    def _number(cls, value: str) -> str:
        return normalize_case_number(value)


class PaymentCreate(Schema):
    amount: PositiveAmountIn
    source: Literal["debtor", "deduction", "auction", "other"] = "debtor"
    note: str | None = Field(default=None, max_length=2000)


class PaymentRead(Schema):
    id: int
    amount: Yuan
    to_principal: Yuan
    to_fee: Yuan
    source: str
    reference: str | None
    note: str | None
    received_at: dt.datetime


class CaseClose(Schema):
    mode: Literal[
        "satisfied",
        "terminated_this_round",
        "terminated",
        "not_enforced",
        "dismissed",
        "withdrawn_filing",
    ]
    reason: str = Field(min_length=1, max_length=2000)


class CaseRead(Schema):
    id: int
    case_number: str
    court_code: str
    filed_on: dt.date
    basis: str
    principal: Yuan
    outstanding: Yuan = Field(description="principal still unpaid")
    fee: Yuan = Field(description="申请执行费, borne by the debtor")
    fee_outstanding: Yuan
    deadline: dt.date = Field(description="filing + 6 months, Asia/Shanghai date")
    overdue: bool
    status: str
    close_mode: str | None
    close_reason: str | None
    closed_at: dt.datetime | None
    applicant: PartyRead
    respondents: list[PartyRead]
    created_at: dt.datetime


class StatsRead(Schema):
    """Annual-report style figures."""

    model_config = {"extra": "allow"}

    period_from: dt.date
    period_to: dt.date
    received: int
    closed: int
    closure_rate: float | None
    closed_within_limit: int
    within_limit_rate: float | None
    open: int
    overdue: int
    recovered: Yuan
