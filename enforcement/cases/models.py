"""Case tables: parties, cases, respondents and payments. Money in fen, dates in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from enforcement.core.db import Base, BigId, Fen, UTCDateTime


class Party(Base):
    """A person (resident ID) or an organization (credit code) in a case."""

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint("kind IN ('person', 'organization')", name="kind"),
        Index("ix_parties_id_number", "id_number"),
        Index("ix_parties_credit_code", "credit_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    legal_representative_id_number: Mapped[str | None] = mapped_column(String(18))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    @property
    def identifier(self) -> str:
        """The party's legal identifier (ID number or credit code)."""
        return (self.id_number if self.kind == "person" else self.credit_code) or ""


class Case(Base):
    """An enforcement case: one applicant, one or more respondents, one claim."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("outstanding >= 0", name="outstanding_nonnegative"),
        CheckConstraint("fee_paid >= 0 AND fee_paid <= fee", name="fee_paid_range"),
        Index("ix_cases_court_status", "court_code", "status"),
        Index("ix_cases_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    court_code: Mapped[str] = mapped_column(String(16))
    filed_on: Mapped[dt.date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(200))
    principal: Mapped[int] = mapped_column(Fen)
    fee: Mapped[int] = mapped_column(Fen)
    outstanding: Mapped[int] = mapped_column(Fen)
    fee_paid: Mapped[int] = mapped_column(Fen, default=0)
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="open")
    close_mode: Mapped[str | None] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    applicant: Mapped[Party] = relationship(lazy="raise", foreign_keys=[applicant_id])
    respondents: Mapped[list[CaseRespondent]] = relationship(
        lazy="raise", order_by="CaseRespondent.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(
        lazy="raise", order_by="Payment.id", cascade="all, delete-orphan"
    )

    @property
    def fee_outstanding(self) -> int:
        """The application fee still unpaid (the debtor bears it; 收费 38)."""
        return self.fee - self.fee_paid


class CaseRespondent(Base):
    """A respondent (被执行人) of a case."""

    __tablename__ = "case_respondents"
    __table_args__ = (UniqueConstraint("case_id", "party_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)

    party: Mapped[Party] = relationship(lazy="raise")


class Payment(Base):
    """Money received for a case, split between principal and fee."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Fen)
    to_principal: Mapped[int] = mapped_column(Fen)
    to_fee: Mapped[int] = mapped_column(Fen)
    source: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
