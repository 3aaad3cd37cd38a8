"""The in-transaction event bus: a domain publishes, other domains' handlers react.

Handlers run inside the publisher's transaction with the same session, so a state change and
its consequences commit together or not at all. The composition root subscribes handlers;
domains never import each other to react.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

E = TypeVar("E")
Handler = Callable[[AsyncSession, Any], Awaitable[None]]

_handlers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    """Call ``handler(session, event)`` whenever ``event_type`` is published (idempotent)."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


async def publish(session: AsyncSession, event: object) -> None:
    """Run every handler of the event's type, in subscription order, in this transaction."""
    for handler in list(_handlers.get(type(event), ())):
        await handler(session, event)


def clear() -> None:
    """Drop every subscription (tests)."""
    _handlers.clear()
