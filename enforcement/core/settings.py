"""One settings class for the whole service; nothing else reads ``os.environ``.

Every value comes from ``ENFORCEMENT_*`` environment variables (nested sections with ``__``,
e.g. ``ENFORCEMENT_CONNECTORS__BANK__BASE_URL``). The defaults are the embedded mode: a SQLite
file, in-process jobs, and the mock registries started with the service.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration."""

    model_config = SettingsConfigDict(
        env_prefix="ENFORCEMENT_", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./enforcement.db"
    redis_url: str | None = Field(
        default=None, description="Redis for arq jobs; unset = in-process jobs (embedded mode)"
    )
    queue_name: str = "enforcement:queue"
    redis_prefix: str = Field(default="enforcement:", description="prefix of our own Redis keys")
    allow_time_travel: bool = False
    timezone: str = "Asia/Shanghai"
    holidays: list[str] = Field(
        default_factory=list, description="extra non-working days (YYYY-MM-DD) beyond weekends"
    )
    id_mask_keep_prefix: int = Field(default=10, description="public masking: leading chars kept")
    id_mask_keep_suffix: int = Field(default=4, description="public masking: trailing chars kept")
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per registry: ENFORCEMENT_CONNECTORS__BANK__BASE_URL…"
    )
    auction: dict[str, Any] = Field(
        default_factory=dict, description="auction section: ENFORCEMENT_AUCTION__BALANCE_DUE_DAYS…"
    )
    start_mock_registries: bool = Field(
        default=True, description="`enforcement serve` also serves the mock registries"
    )
    mock_registries_port: int = 8701
    sweep_hour: int = 2
    sweep_minute: int = 0
    sweep_batch_size: int = 200
    sweep_subjects_in_flight: int = Field(
        default=100, ge=1, description="subjects one worker process queries at once"
    )
    worker_max_jobs: int = 100
    worker_poll_delay: float = 0.1
    credit_rate_limit_per_minute: int = 600
    screening_hmac_key: SecretStr = Field(
        default=SecretStr("embedded-screening-log-key"),
        description="HMAC key of the screening log's query hashes; set your own in production",
    )
    sql_echo: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
