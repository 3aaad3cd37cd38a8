"""Auction settings the law leaves to the court or the platform (balance due date, jump K…).

The one settings class is the kernel's ``Settings``; its ``auction`` section (env
``ENFORCEMENT_AUCTION__BALANCE_DUE_DAYS=20`` …) arrives as a plain dict, and this module
validates it into a typed model so a typo or a bad value fails loudly instead of being ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from enforcement.core.settings import Settings, get_settings


class AuctionConfig(BaseModel):
    """Tunable auction parameters; defaults follow rules.md §1 where it gives a number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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


_cached: tuple[Settings, AuctionConfig] | None = None


def get_config() -> AuctionConfig:
    """The auction section of the current settings, validated once per settings object."""
    global _cached
    settings = get_settings()
    if _cached is None or _cached[0] is not settings:
        _cached = (settings, AuctionConfig.model_validate(settings.auction))
    return _cached[1]


def reset_config() -> None:
    """Forget the validated section (tests change the settings)."""
    global _cached
    _cached = None
