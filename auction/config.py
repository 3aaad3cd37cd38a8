"""Auction settings the law leaves to the court or the platform (balance due date, jump K…).

Read from ``ENFORCEMENT_AUCTION_*`` through pydantic-settings, like the kernel's settings; kept
here until the kernel's ``Settings`` grows an ``auction`` section (the core is not ours to edit).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuctionConfig(BaseSettings):
    """Tunable auction parameters; defaults follow rules.md §1 where it gives a number."""

    model_config = SettingsConfigDict(env_prefix="ENFORCEMENT_AUCTION_", extra="ignore")

    balance_due_days: int = Field(
        default=15, ge=1, description="days after the close to pay the balance (rule: unverified)"
    )
    jump_confirm_increments: int = Field(
        default=10, ge=1, description="a bid more than K increments above needs confirm_jump"
    )
    close_grace_seconds: int = Field(
        default=2, ge=0, description="wait after ends_at so bids stamped in time can land"
    )
    reauction_cut_percent: int = Field(
        default=20, ge=0, le=20, description="price cut a prepared re-auction applies"
    )
    refund_alert_hours: int = Field(default=24, description="refunds later than this are alerted")


@lru_cache(maxsize=1)
def get_config() -> AuctionConfig:
    """The process-wide auction configuration, read once."""
    return AuctionConfig()


def reset_config() -> None:
    """Forget the cached configuration (tests change the environment)."""
    get_config.cache_clear()
