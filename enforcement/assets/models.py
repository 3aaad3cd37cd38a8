"""Asset tables: what the registries reported, and the freezes the court placed on it.

``Asset`` and ``Freeze`` are read by the auction (it sells frozen non-cash assets); the
inquiry and sweep tables belong to this domain alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
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


class Asset(Base):
    """One asset of one respondent, deduplicated by (registry, registry_ref) within a case.

    ``status``: ``present`` (the registry still reports it), ``gone`` (a re-query no longer
    does), ``sold`` (sold at auction or taken in lieu of payment).
    """

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("case_id", "registry", "registry_ref"),
        CheckConstraint("kind IN ('deposit', 'vehicle', 'securities', 'equity')", name="kind"),
        Index("ix_assets_party", "party_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    # ``registry`` is reserved by SQLAlchemy declarative; the column keeps the contract name.
    registry_name: Mapped[str] = mapped_column("registry", String(32))
    kind: Mapped[str] = mapped_column(String(16))
    registry_ref: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text)
    value: Mapped[int] = mapped_column(Fen)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    holder: Mapped[str] = mapped_column(String(200))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="present")
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    gone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Freeze(Base):
    """A court's freeze (查封/扣押/冻结) of an asset.

    ``status``: ``active``, ``queued`` (轮候: not effective until the earlier freeze ends),
    ``rejected``, ``released``, ``expired``. ``frozen`` is what the registry actually froze.
    """

    __tablename__ = "freezes"
    __table_args__ = (
        CheckConstraint("frozen >= 0", name="frozen_nonnegative"),
        Index("ix_freezes_status_expires", "status", "expires_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    requested: Mapped[int] = mapped_column(Fen)
    frozen: Mapped[int] = mapped_column(Fen)
    deducted: Mapped[int] = mapped_column(Fen, default=0)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    order_number: Mapped[str] = mapped_column(String(64))
    registry_reference: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    warned_on: Mapped[dt.date | None] = mapped_column(Date)


class Inquiry(Base):
    """One request to the registries about a case's respondents, with purpose and operator.

    ``status``: ``pending``, ``running``, ``done`` or ``partial`` (a registry failed); derived
    from its tasks and stored when they finish.
    """

    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    purpose: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class InquiryTask(Base):
    """One registry asked about one respondent: the unit of work of an inquiry job.

    ``status``: ``pending``, ``running``, ``waiting`` (an asynchronous registry is working;
    ``handle`` is its ticket), ``done`` or ``failed`` (``error`` says why).
    """

    __tablename__ = "inquiry_tasks"
    __table_args__ = (UniqueConstraint("inquiry_id", "party_id", "registry"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    registry_name: Mapped[str] = mapped_column("registry", String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    handle: Mapped[str | None] = mapped_column(String(128))
    polls: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    assets_found: Mapped[int] = mapped_column(Integer, default=0)
    assets_new: Mapped[int] = mapped_column(Integer, default=0)
    assets_changed: Mapped[int] = mapped_column(Integer, default=0)
    assets_gone: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SweepRun(Base):
    """The nightly re-query of every open (and due 终本) case's respondents; one per date."""

    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    trigger: Mapped[str] = mapped_column(String(32))
    subjects_total: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SweepSubject(Base):
    """One respondent of one sweep run: the done-marker that keeps a re-run from re-querying.

    ``status``: ``pending``, ``running`` (claimed at ``claimed_at``), ``waiting`` (an
    asynchronous registry is answering; ``pending`` maps registry to handle), ``done``.
    Counts and per-registry errors live here so concurrent workers never contend on one row.
    """

    __tablename__ = "sweep_subjects"
    __table_args__ = (
        UniqueConstraint("sweep_id", "respondent_id"),
        Index("ix_sweep_subjects_respondent_done", "respondent_id", "done_at"),
        Index("ix_sweep_subjects_sweep_status", "sweep_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sweep_id: Mapped[int] = mapped_column(ForeignKey("sweep_runs.id", ondelete="CASCADE"))
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("case_respondents.id", ondelete="CASCADE")
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    assets_new: Mapped[int] = mapped_column(Integer, default=0)
    assets_changed: Mapped[int] = mapped_column(Integer, default=0)
    assets_gone: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
