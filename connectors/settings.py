"""Per-registry connector settings.

The application's settings hold ``connectors: dict[str, dict]`` (for example from
``ENFORCEMENT_CONNECTORS__BANK__BASE_URL``); ``connectors.registry.build_connectors``
validates each entry with the plugin's ``settings_model``, a subclass of
``ConnectorSettings`` that only changes defaults. Defaults point at the mock registries
(``enforcement mock-registries``) so a fresh checkout runs end to end.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

MOCK_REGISTRIES_URL = "http://127.0.0.1:8701"


class ConnectorSettings(BaseModel):
    """How to reach one registry and how hard to push it."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str = MOCK_REGISTRIES_URL
    api_key: SecretStr | None = Field(default=None, description="sent as X-Api-Key when set")
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra headers on every request (tests: fault headers)"
    )
    transport: Literal["httpx", "aiohttp"] = Field(
        default="aiohttp",
        description="aiohttp (httpx API, aiohttp sockets) measured faster at every concurrency;"
        " plain httpx collapses above ~20 in flight (python -m connectors.bench)",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="deadline per attempt")
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=10, ge=1, description="requests allowed back to back")
    max_in_flight: int = Field(
        default=20, ge=1, description="per client; keep <= 20 with the plain httpx transport"
    )
    max_retries: int = Field(default=3, ge=0, description="retries after the first attempt")
    retry_backoff_seconds: float = Field(default=0.2, ge=0)
    retry_backoff_max_seconds: float = Field(default=5.0, ge=0)
    max_retry_after_seconds: float = Field(
        default=30.0, ge=0, description="a longer Retry-After is left to a job retry"
    )
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    poll_interval_seconds: float = Field(default=0.5, gt=0, description="asynchronous registries")
    poll_max_interval_seconds: float = Field(default=5.0, gt=0)
    poll_timeout_seconds: float = Field(default=60.0, gt=0)
    page_size: int = Field(default=50, ge=1, description="paginated registries")
    mock_today_from: str | None = Field(
        default=None,
        pattern=r"^[\w.]+:[\w.]+$",
        description="'module:function' returning a date sent as X-Mock-Today on every request,"
        " so the mock registries expire freezes by the caller's clock (tests, time-travel demos);"
        " never set it for a real registry",
    )


class BankSettings(ConnectorSettings):
    """The bank channel (总对总): asynchronous inquiries."""

    base_url: str = f"{MOCK_REGISTRIES_URL}/bank"


class VehicleSettings(ConnectorSettings):
    """The traffic police vehicle registry."""

    base_url: str = f"{MOCK_REGISTRIES_URL}/vehicle"


class SecuritiesSettings(ConnectorSettings):
    """The securities depository."""

    base_url: str = f"{MOCK_REGISTRIES_URL}/securities"


class BusinessSettings(ConnectorSettings):
    """The business (market regulation) registry."""

    base_url: str = f"{MOCK_REGISTRIES_URL}/business"
