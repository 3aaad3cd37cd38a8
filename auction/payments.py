"""Deposits and balances move through a payment provider behind a small interface.

No real money moves here: ``MockPaymentProvider`` answers like a platform's escrow would.
Every call carries our own reference (``deposit:12``, ``refund:12``), and a provider must treat
a repeated reference as the same operation: that is what makes a refund exactly-once even when
a worker dies between the provider's answer and our commit and the job runs again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class PaymentDeclined(Exception):
    """The provider refused to collect (insufficient funds, card blocked…)."""


class PaymentProvider(Protocol):
    """What the auction needs from an escrow: collect and refund, idempotent per reference."""

    async def collect(self, reference: str, amount: int, payer: str) -> str:
        """Take ``amount`` fen from ``payer``; return the provider's transaction id."""
        ...

    async def refund(self, reference: str, original: str, amount: int) -> str:
        """Return ``amount`` fen of the transaction ``original``; return the refund id."""
        ...


@dataclass
class MockPaymentProvider:
    """In-memory escrow: deterministic ids, idempotent per reference, declines on request."""

    collected: dict[str, tuple[int, str]] = field(default_factory=dict)
    refunded: dict[str, tuple[int, str]] = field(default_factory=dict)
    decline_payers: set[str] = field(default_factory=set)
    calls: int = 0

    async def collect(self, reference: str, amount: int, payer: str) -> str:
        self.calls += 1
        if payer in self.decline_payers:
            raise PaymentDeclined(payer)
        self.collected.setdefault(reference, (amount, payer))
        return f"mock-pay:{reference}"

    async def refund(self, reference: str, original: str, amount: int) -> str:
        self.calls += 1
        self.refunded.setdefault(reference, (amount, original))
        return f"mock-refund:{reference}"


_provider: PaymentProvider = MockPaymentProvider()


def get_provider() -> PaymentProvider:
    """The provider in force (the mock unless start-up installed another)."""
    return _provider


def set_provider(provider: PaymentProvider) -> PaymentProvider:
    """Install a provider; returns the previous one so tests can restore it."""
    global _provider
    previous, _provider = _provider, provider
    return previous
