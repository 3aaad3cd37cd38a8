"""The connector contract: what every registry client takes and returns.

A connector knows one registry. It ``query``s a subject and returns asset records,
``freeze``s and ``release``s an asset under a court order, ``renew``s a freeze before it
lapses (续行), reports a freeze's ``freeze_status`` (a queued freeze becomes active when the
earlier one ends, and only the registry knows when), and (banks only) ``deduct``s frozen
money to the court account or ``reduce``s a freeze to a lower amount (partial release).
Registries that answer asynchronously return a ``PendingQuery`` handle from ``submit_query``
that the caller polls with ``fetch_query``.

Connectors are found through the ``enforcement.connectors`` entry-point group, so a new
registry is a new package that registers a class implementing ``Connector``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import NotSupported

AssetKind = Literal["deposit", "vehicle", "securities", "equity"]
FreezeStatus = Literal["active", "queued", "rejected", "released", "expired"]
"""``freeze`` answers active|queued|rejected; ``freeze_status`` also released|expired."""


class Model(BaseModel):
    """Immutable value objects exchanged with connectors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Subject(Model):
    """Whom a registry is asked about: a person by ID number or an organization by credit code."""

    kind: Literal["person", "organization"]
    name: str
    id_number: str | None = None
    credit_code: str | None = None

    @property
    def identifier(self) -> str:
        """The registry key of this subject."""
        value = self.id_number if self.kind == "person" else self.credit_code
        if not value:
            raise ValueError("subject has no identifier for its kind")
        return value


class AssetRecord(Model):
    """One asset as a registry reports it; ``registry_ref`` is stable within that registry."""

    registry: str
    kind: AssetKind
    registry_ref: str
    description: str
    value: int = Field(description="estimated value or balance in fen")
    currency: str = "CNY"
    holder: str
    raw: dict[str, Any] = Field(default_factory=dict)


class QueryResult(Model):
    """Everything one registry knows about one subject."""

    registry: str
    subject: Subject
    assets: list[AssetRecord]
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="registry facts that are not assets (a company's registration)",
    )


class PendingQuery(Model):
    """Handle for an inquiry that the registry answers later (the bank channel)."""

    registry: str
    handle: str
    subject: Subject


class FreezeRequest(Model):
    """A court order to freeze (查封/扣押/冻结) one asset."""

    registry_ref: str
    amount: int | None = Field(default=None, description="fen; deposits only, None = everything")
    court_code: str
    case_number: str
    order_number: str
    until: dt.date
    idempotency_key: str


class FreezeReceipt(Model):
    """What the registry did with a freeze order."""

    registry_ref: str
    status: FreezeStatus
    frozen: int = Field(description="fen actually frozen (may be less than asked; 0 unless active)")
    until: dt.date | None
    registry_freeze_id: str | None
    reason: str | None = None


class DeductReceipt(Model):
    """Money moved from a frozen deposit to the court account."""

    registry_freeze_id: str
    deducted: int
    remaining_frozen: int


class ReleaseReceipt(Model):
    """A released freeze; ``promoted`` names the queued freeze that became active, if any."""

    registry_freeze_id: str
    released: bool
    promoted_freeze_id: str | None = None


@runtime_checkable
class Connector(Protocol):
    """One registry. Implementations call it through a ``connectors.http.RegistryClient``,
    whose httpx transport is the test seam."""

    name: ClassVar[str]
    asynchronous: ClassVar[bool]

    async def query(self, subject: Subject) -> QueryResult:
        """Ask about a subject and wait for the answer (polls internally if asynchronous)."""
        ...

    async def submit_query(self, subject: Subject) -> PendingQuery | QueryResult:
        """Start an inquiry; asynchronous registries return a handle to poll."""
        ...

    async def fetch_query(self, pending: PendingQuery) -> QueryResult | None:
        """Poll an asynchronous inquiry; None while the registry is still working."""
        ...

    async def freeze(self, request: FreezeRequest) -> FreezeReceipt:
        """Freeze an asset; the same ``idempotency_key`` never freezes twice."""
        ...

    async def release(self, registry_freeze_id: str) -> ReleaseReceipt:
        """Lift a freeze; the registry promotes the earliest queued freeze, if any."""
        ...

    async def deduct(
        self, registry_freeze_id: str, amount: int, idempotency_key: str
    ) -> DeductReceipt:
        """Move frozen money to the court account (deposits only)."""
        ...

    async def renew(
        self, registry_freeze_id: str, until: dt.date, idempotency_key: str
    ) -> FreezeReceipt:
        """Continue a freeze in force to ``until`` (续行); the same key never renews twice.

        The registry refuses (``PermanentError``) a freeze that has already lapsed or ended.
        """
        ...

    async def freeze_status(self, registry_freeze_id: str) -> FreezeReceipt:
        """The freeze as the registry holds it now (active|queued|released|expired)."""
        ...

    async def reduce(
        self, registry_freeze_id: str, amount: int, idempotency_key: str
    ) -> FreezeReceipt:
        """Release ``amount`` fen of an active deposit freeze (部分解冻), keeping its rank and
        expiry; over-seizure is cut without losing priority to queued courts (deposits only)."""
        ...


def not_supported(registry: str, operation: str) -> NotSupported:
    """The error a connector raises for an operation its registry lacks."""
    return NotSupported(registry, f"{operation} is not supported")


__all__ = [
    "AssetKind",
    "AssetRecord",
    "Connector",
    "DeductReceipt",
    "FreezeReceipt",
    "FreezeRequest",
    "FreezeStatus",
    "PendingQuery",
    "QueryResult",
    "ReleaseReceipt",
    "Subject",
    "not_supported",
]
