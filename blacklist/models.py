"""Tables of the blacklist domain: listings, their change log (the feed), webhooks, access log.

A listing keeps its current public record as JSON text (``record``) so the export and the
feed pass stored bytes through instead of rebuilding records from cases and parties.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from blacklist.rules import RELATED_ROLE_LABELS
from enforcement.core.db import Base, BigId, UTCDateTime


class Listing(Base):
    """One respondent of one case on the defaulter list or under consumption restriction."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("kind IN ('dishonest', 'restricted')", name="kind"),
        CheckConstraint("status IN ('active', 'removed')", name="status"),
        Index("ix_listings_case_party", "case_id", "party_id"),
        Index("ix_listings_id_number", "id_number"),
        Index("ix_listings_credit_code", "credit_code"),
        Index("ix_listings_name_norm", "name_norm"),
        Index("ix_listings_status_ends_on", "status", "ends_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    court_code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    implied_by_id: Mapped[int | None] = mapped_column(BigInteger)
    subject_kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    legal_representative_id_number: Mapped[str | None] = mapped_column(String(18))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    aggravated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    removal_reason: Mapped[str | None] = mapped_column(String(32))
    removal_note: Mapped[str | None] = mapped_column(Text)
    removal_trigger_on: Mapped[dt.date | None] = mapped_column(Date)
    deletion_deadline: Mapped[dt.date | None] = mapped_column(Date)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    record: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ListingPerson(Base):
    """A person an organization's listing restricts with it (限消 Art 3), findable by screening."""

    __tablename__ = "listing_persons"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in RELATED_ROLE_LABELS) + ")",
            name="role",
        ),
        Index("ix_listing_persons_id_number", "id_number"),
        Index("ix_listing_persons_name_norm", "name_norm"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18))


class FeedCounter(Base):
    """The one row whose update hands out feed sequence numbers in commit order."""

    __tablename__ = "listing_feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class ListingChange(Base):
    """One change of one listing: the feed. ``record`` is the listing as it is afterwards."""

    __tablename__ = "listing_changes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    listing_id: Mapped[int] = mapped_column(BigInteger, index=True)
    version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    record: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookSubscription(Base):
    """A consumer's endpoint; ``delivered_seq`` is how far it has been served, in order."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (CheckConstraint("status IN ('active', 'disabled')", name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_id: Mapped[int] = mapped_column(BigInteger, index=True)
    url: Mapped[str] = mapped_column(String(2000))
    types: Mapped[list[str] | None] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(String(8), default="full")
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="active")
    delivered_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One attempt to deliver one event to one subscription (the delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_sub_seq", "subscription_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AccessLog(Base):
    """Who read what of the lists: screening calls, feed pages and exports (design: audited)."""

    __tablename__ = "list_access_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    query_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
