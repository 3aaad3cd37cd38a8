"""The in-memory freeze book each mock registry keeps (it is somebody else's system).

Rules it models (rules.md §5): a deposit freeze takes what is available and may be partial;
an asset another court froze first gets a queued (轮候) freeze that becomes active, in order
of arrival, when the earlier one is released or expires; a freeze ends on its ``until``
date unless renewed (续行) before then; the same ``Idempotency-Key`` always returns the same
freeze, renewal or deduction. "Today" comes from ``connectors.mock.today`` (the request's
``X-Mock-Today``, a fixed setting, or the wall clock), so tests that move the service clock
see the registry expire freezes on the same day.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from connectors.mock.today import make_today

State = Literal["active", "queued", "rejected", "released", "expired"]


class BookError(Exception):
    """A request the registry refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Freeze:
    """One freeze order as the registry records it."""

    freeze_id: str
    asset_ref: str
    court_code: str
    case_number: str
    order_number: str
    asked: int | None
    frozen: int
    state: State
    until: dt.date
    seq: int
    key: str
    deducted: int = 0
    reason: str | None = None
    holder: str = ""
    renewals: int = 0


@dataclass
class _Asset:
    capacity: int
    amount_based: bool
    debited: int = 0


@dataclass
class FreezeBook:
    """Freezes, queues, releases and deductions for one registry."""

    prefix: str
    today: Callable[[], dt.date] = field(default_factory=make_today)
    freezes: dict[str, Freeze] = field(default_factory=dict)
    court_accounts: dict[str, int] = field(default_factory=dict)
    _assets: dict[str, _Asset] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _deductions: dict[str, dict[str, int | str]] = field(default_factory=dict)
    _renewals: dict[str, str] = field(default_factory=dict)
    _reductions: dict[str, str] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def reset(self) -> None:
        """Forget every freeze, deduction and key (tests)."""
        self.freezes.clear()
        self.court_accounts.clear()
        self._assets.clear()
        self._keys.clear()
        self._deductions.clear()
        self._renewals.clear()
        self._reductions.clear()

    def place(
        self,
        key: str,
        asset_ref: str,
        *,
        capacity: int,
        amount_based: bool,
        asked: int | None,
        court_code: str,
        case_number: str,
        order_number: str,
        until: dt.date,
        prior_court: str | None = None,
        prior_amount: int | None = None,
        holder: str = "",
    ) -> Freeze:
        """Freeze an asset (idempotent by key); ``prior_court`` seeds an earlier freeze once."""
        self._expire()
        if key in self._keys:
            existing = self.freezes[self._keys[key]]
            if existing.asset_ref != asset_ref:
                raise BookError(422, "KEY_REUSED", "idempotency key used for another asset")
            return existing
        if until < self.today():
            raise BookError(400, "BAD_DATE", "freeze would end in the past")
        if asset_ref not in self._assets:
            self._assets[asset_ref] = _Asset(capacity, amount_based)
            if prior_court:
                self._record(
                    f"seed-{asset_ref}",
                    asset_ref,
                    prior_court,
                    "(prior)",
                    "(prior)",
                    prior_amount,
                    self.today() + dt.timedelta(days=365),
                )
        freeze = self._record(key, asset_ref, court_code, case_number, order_number, asked, until)
        freeze.holder = holder
        return freeze

    def _record(
        self,
        key: str,
        asset_ref: str,
        court_code: str,
        case_number: str,
        order_number: str,
        asked: int | None,
        until: dt.date,
    ) -> Freeze:
        seq = next(self._seq)
        freeze = Freeze(
            f"{self.prefix}{seq:08d}",
            asset_ref,
            court_code,
            case_number,
            order_number,
            asked,
            0,
            "queued",
            until,
            seq,
            key,
        )
        asset = self._assets[asset_ref]
        available = self._available(asset_ref)
        if not asset.amount_based:
            if available:
                freeze.state, freeze.frozen = "active", asset.capacity
        elif available > 0:
            freeze.state, freeze.frozen = "active", min(asked or available, available)
        elif not self._active(asset_ref):
            freeze.state, freeze.reason = "rejected", "no balance to freeze"
        self.freezes[freeze.freeze_id] = freeze
        self._keys[key] = freeze.freeze_id
        return freeze

    def release(self, freeze_id: str) -> tuple[Freeze, Freeze | None]:
        """Lift a freeze; returns it and the queued freeze promoted in its place, if any."""
        self._expire()
        freeze = self.get(freeze_id)
        if freeze.state not in ("active", "queued"):
            return freeze, None
        was_active = freeze.state == "active"
        freeze.state = "released"
        promoted = self._promote(freeze.asset_ref) if was_active else []
        return freeze, (promoted[0] if promoted else None)

    def renew(self, key: str, freeze_id: str, until: dt.date) -> Freeze:
        """Continue a freeze in force to a later ``until`` (idempotent by key).

        An expired or released freeze cannot be renewed (409); the registry does not check the
        legal maximum, the court does.
        """
        self._expire()
        if key in self._renewals:
            if self._renewals[key] != freeze_id:
                raise BookError(422, "KEY_REUSED", "idempotency key used for another freeze")
            return self.freezes[freeze_id]
        freeze = self.get(freeze_id)
        if freeze.state not in ("active", "queued"):
            code = "EXPIRED" if freeze.state == "expired" else "NOT_IN_FORCE"
            raise BookError(409, code, f"freeze is {freeze.state}")
        if until <= freeze.until:
            raise BookError(422, "BAD_DATE", "a renewal must end after the current expiry")
        freeze.until = until
        freeze.renewals += 1
        self._renewals[key] = freeze_id
        return freeze

    def reduce(self, key: str, freeze_id: str, amount: int) -> Freeze:
        """Release part of an active amount freeze (idempotent by key); it keeps its rank and
        expiry, and the money set free goes to the queued freezes in order."""
        self._expire()
        if key in self._reductions:
            if self._reductions[key] != freeze_id:
                raise BookError(422, "KEY_REUSED", "idempotency key used for another freeze")
            return self.freezes[freeze_id]
        freeze = self.get(freeze_id)
        if freeze.state != "active" or not self._assets[freeze.asset_ref].amount_based:
            raise BookError(409, "NOT_REDUCIBLE", f"freeze is {freeze.state} or not of money")
        if amount <= 0 or amount >= freeze.frozen:
            raise BookError(422, "AMOUNT", f"can release part of {freeze.frozen}; release it all")
        freeze.frozen -= amount
        if freeze.asked is not None:
            freeze.asked = min(freeze.asked, freeze.frozen)
        self._reductions[key] = freeze_id
        self._promote(freeze.asset_ref)
        return freeze

    def deduct(self, key: str, freeze_id: str, amount: int) -> dict[str, int | str]:
        """Move frozen money to the court's account (idempotent by key)."""
        self._expire()
        if key in self._deductions:
            return self._deductions[key]
        freeze = self.get(freeze_id)
        if freeze.state != "active":
            raise BookError(409, "NOT_ACTIVE", f"freeze is {freeze.state}")
        if amount <= 0 or amount > freeze.frozen:
            raise BookError(422, "AMOUNT", f"can deduct at most {freeze.frozen}")
        freeze.frozen -= amount
        freeze.deducted += amount
        self._assets[freeze.asset_ref].debited += amount
        self.court_accounts[freeze.court_code] = (
            self.court_accounts.get(freeze.court_code, 0) + amount
        )
        result: dict[str, int | str] = {
            "deduction_id": f"{self.prefix}D{len(self._deductions) + 1:07d}",
            "freeze_id": freeze.freeze_id,
            "deducted": amount,
            "remaining_frozen": freeze.frozen,
            "court_balance": self.court_accounts[freeze.court_code],
        }
        self._deductions[key] = result
        return result

    def get(self, freeze_id: str) -> Freeze:
        """A freeze by id, after applying expiry."""
        self._expire()
        if freeze_id not in self.freezes:
            raise BookError(404, "NO_FREEZE", f"no freeze {freeze_id}")
        return self.freezes[freeze_id]

    def on_asset(self, asset_ref: str) -> list[Freeze]:
        """Every freeze ever recorded on an asset, oldest first."""
        return [f for f in self.freezes.values() if f.asset_ref == asset_ref]

    def frozen_amount(self, asset_ref: str) -> int:
        """Fen (or value) held by active freezes on an asset."""
        return sum(f.frozen for f in self._active(asset_ref))

    def debited(self, asset_ref: str) -> int:
        """Fen already deducted from an asset."""
        asset = self._assets.get(asset_ref)
        return asset.debited if asset else 0

    def _active(self, asset_ref: str) -> list[Freeze]:
        return [
            f for f in self.freezes.values() if f.asset_ref == asset_ref and f.state == "active"
        ]

    def _available(self, asset_ref: str) -> int:
        asset = self._assets[asset_ref]
        if not asset.amount_based:
            return 0 if self._active(asset_ref) else 1
        return asset.capacity - asset.debited - self.frozen_amount(asset_ref)

    def _promote(self, asset_ref: str) -> list[Freeze]:
        asset = self._assets[asset_ref]
        promoted = []
        queued = sorted(
            (f for f in self.freezes.values() if f.asset_ref == asset_ref and f.state == "queued"),
            key=lambda f: f.seq,
        )
        for freeze in queued:
            available = self._available(asset_ref)
            if available <= 0:
                break
            freeze.state = "active"
            freeze.frozen = (
                asset.capacity
                if not asset.amount_based
                else min(freeze.asked or available, available)
            )
            promoted.append(freeze)
        return promoted

    def _expire(self) -> None:
        today = self.today()
        for freeze in list(self.freezes.values()):
            if freeze.state in ("active", "queued") and freeze.until < today:
                was_active = freeze.state == "active"
                freeze.state = "expired"
                if was_active:
                    self._promote(freeze.asset_ref)
