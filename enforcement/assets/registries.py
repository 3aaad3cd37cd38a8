"""The process-wide connectors and the one place registry failures become domain errors.

``wiring.startup`` fills the holder from settings; tests install connectors built on
``httpx.ASGITransport`` clients with ``set_connectors``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

from connectors.base import Connector
from connectors.errors import ConnectorError, TransientError
from enforcement.assets.errors import RegistryNotEnabled, RegistryRefused, RegistryUnavailable

T = TypeVar("T")

_connectors: Mapping[str, Connector] | None = None


def set_connectors(connectors: Mapping[str, Connector] | None) -> Mapping[str, Connector] | None:
    """Install the connectors (start-up, tests); returns the previous ones."""
    global _connectors
    previous, _connectors = _connectors, connectors
    return previous


def get_connectors() -> Mapping[str, Connector]:
    """The enabled connectors by registry name (empty before start-up)."""
    return _connectors or {}


def connector(registry: str) -> Connector:
    """One enabled connector; 422 ``registry_not_enabled`` otherwise."""
    found = get_connectors().get(registry)
    if found is None:
        raise RegistryNotEnabled(details={"registry": registry})
    return found


async def call(registry: str, operation: Awaitable[T]) -> T:
    """Await a connector call made in a request; classify its failure for the client."""
    try:
        return await operation
    except TransientError as exc:
        raise RegistryUnavailable(details={"registry": registry, "reason": exc.message}) from exc
    except ConnectorError as exc:
        raise RegistryRefused(details={"registry": registry, "reason": exc.message}) from exc
