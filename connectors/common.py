"""What the built-in connectors share: construction, the ``registry_ref`` format, parsing.

A ``registry_ref`` is ``"<holder identifier>:<the registry's own asset id>"``: every real
freeze order names the party as well as the asset, and it lets a freeze be sent days after
the query without any state on our side.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

from connectors.base import (
    DeductReceipt,
    FreezeReceipt,
    FreezeStatus,
    PendingQuery,
    QueryResult,
    Subject,
    not_supported,
)
from connectors.errors import PermanentError
from connectors.http import RegistryClient
from connectors.settings import ConnectorSettings


class HttpConnector:
    """Base of the built-in connectors: one ``RegistryClient`` and a typed settings model."""

    name: ClassVar[str]
    asynchronous: ClassVar[bool] = False
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    def __init__(self, settings: ConnectorSettings, http: RegistryClient | None = None) -> None:
        self.settings = settings
        self.http = http or RegistryClient(self.name, settings)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def query(self, subject: Subject) -> QueryResult:
        """Ask about a subject (subclasses implement)."""
        raise NotImplementedError

    async def submit_query(self, subject: Subject) -> PendingQuery | QueryResult:
        """Synchronous registries answer at once."""
        return await self.query(subject)

    async def fetch_query(self, pending: PendingQuery) -> QueryResult | None:
        """Synchronous registries never hand out a pending query."""
        raise not_supported(self.name, "fetch_query")

    async def deduct(
        self, registry_freeze_id: str, amount: int, idempotency_key: str
    ) -> DeductReceipt:
        """Only deposits can be deducted."""
        raise not_supported(self.name, "deduct")

    async def renew(
        self, registry_freeze_id: str, until: dt.date, idempotency_key: str
    ) -> FreezeReceipt:
        """A registry without renewals (subclasses implement)."""
        raise not_supported(self.name, "renew")

    async def freeze_status(self, registry_freeze_id: str) -> FreezeReceipt:
        """A registry that cannot report a freeze (subclasses implement)."""
        raise not_supported(self.name, "freeze_status")

    async def reduce(
        self, registry_freeze_id: str, amount: int, idempotency_key: str
    ) -> FreezeReceipt:
        """Only deposits can be partly released."""
        raise not_supported(self.name, "reduce")


def receipt(
    *,
    holder: str,
    native_id: str,
    status: FreezeStatus,
    frozen: int,
    until: dt.date | None,
    registry_freeze_id: str,
    reason: str | None = None,
) -> FreezeReceipt:
    """A receipt for a freeze the registry reports; only an active freeze holds anything."""
    return FreezeReceipt(
        registry_ref=make_ref(holder, native_id) if holder else native_id,
        status=status,
        frozen=frozen if status == "active" else 0,
        until=until,
        registry_freeze_id=registry_freeze_id,
        reason=reason,
    )


def make_ref(holder: str, native_id: str) -> str:
    """Compose a ``registry_ref`` from the holder's identifier and the registry's asset id."""
    return f"{holder}:{native_id}"


def split_ref(registry: str, ref: str) -> tuple[str, str]:
    """Split a ``registry_ref`` into (holder identifier, registry asset id)."""
    holder, sep, native = ref.partition(":")
    if not sep or not holder or not native:
        raise PermanentError(registry, f"malformed registry_ref {ref!r}")
    return holder, native


def fen(amount: Any, unit: int = 100) -> int:
    """Integer fen from a decimal string in yuan (``unit=100``) or 万元 (``unit=1_000_000``)."""
    value = Decimal(str(amount)) * unit
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@contextlib.contextmanager
def parsing(registry: str, what: str) -> Iterator[None]:
    """Turn a registry answer we cannot read into ``PermanentError`` (bad data: stop)."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise PermanentError(registry, f"unreadable {what}: {exc!r}") from exc
