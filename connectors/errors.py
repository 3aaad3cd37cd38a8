"""Connector failures, classified once so that callers decide without parsing messages.

    ConnectorError                 base of everything a connector raises
    ├── TransientError             timeout, 5xx, 429, breaker open: try again later
    │   └── RateLimited            429 (carries ``retry_after`` seconds when the registry said)
    ├── PermanentError             4xx other than 429, bad or unparseable data: record and stop
    └── NotSupported               the registry cannot do this (e.g. ``deduct`` on vehicles)

Only ``connectors.http`` retries HTTP calls (seconds); retries measured in minutes are job retries.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class: every connector failure names the registry it came from."""

    def __init__(self, registry: str, message: str) -> None:
        super().__init__(f"{registry}: {message}")
        self.registry = registry
        self.message = message


class TransientError(ConnectorError):
    """The registry may answer if asked again later."""


class RateLimited(TransientError):
    """The registry answered 429."""

    def __init__(self, registry: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(registry, message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Asking again will not help: a rejected request or data we cannot read."""


class NotSupported(ConnectorError):
    """The operation does not exist for this registry."""
