"""Live updates for watchers of a round: bids and the close as server-sent events, published
after commit.

A watcher must never see a bid that was rolled back, so an accepted bid is handed to the
broadcaster from the session's ``after_commit`` hook, never from inside the transaction. With
``settings.redis_url`` the broadcaster is Redis pub/sub (every API process sees every bid);
without it (embedded mode, tests) it is an in-process fan-out to per-watcher queues. Delivery is
best effort: a slow watcher drops events (``seq`` shows the gap; ``GET /auctions/{id}`` is the
truth), and publishing never blocks or fails a bid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core.money import format_yuan

log = logging.getLogger(__name__)
_PENDING = "auction_live_pending"
_QUEUE_SIZE = 256


class LocalBroadcaster:
    """In-process fan-out: one bounded queue per watcher."""

    def __init__(self) -> None:
        self.watchers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = {}

    def publish(self, auction_id: int, item: dict[str, Any]) -> None:
        """Hand ``item`` to every watcher of the round; a full queue loses it."""
        for queue in list(self.watchers.get(auction_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(item)

    @contextlib.asynccontextmanager
    async def subscribe(self, auction_id: int) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving the round's events while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self.watchers.setdefault(auction_id, set()).add(queue)
        try:
            yield queue
        finally:
            self.watchers[auction_id].discard(queue)
            if not self.watchers[auction_id]:
                del self.watchers[auction_id]

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisBroadcaster:
    """Redis pub/sub, one channel per round, so every API process sees every bid."""

    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.prefix = prefix
        self._tasks: set[asyncio.Task[Any]] = set()

    def channel(self, auction_id: int) -> str:
        """The round's channel name."""
        return f"{self.prefix}auction:{auction_id}:events"

    def publish(self, auction_id: int, item: dict[str, Any]) -> None:
        """Publish in the background (the commit is done; the bid must not wait for Redis)."""
        task = asyncio.get_running_loop().create_task(
            self.redis.publish(self.channel(auction_id), json.dumps(item, ensure_ascii=False))
        )
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("auction live: publish failed: %s", task.exception())

    @contextlib.asynccontextmanager
    async def subscribe(self, auction_id: int) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue fed from the round's channel while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel(auction_id))

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(json.loads(message["data"]))

        reader = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            await pubsub.aclose()

    async def aclose(self) -> None:
        """Wait for in-flight publishes, then close the connection pool."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()


Broadcaster = LocalBroadcaster | RedisBroadcaster
_broadcaster: Broadcaster = LocalBroadcaster()


def broadcaster() -> Broadcaster:
    """The process's broadcaster."""
    return _broadcaster


def set_broadcaster(new: Broadcaster) -> Broadcaster:
    """Install a broadcaster (``wiring.startup``, tests); returns the previous one."""
    global _broadcaster
    previous, _broadcaster = _broadcaster, new
    return previous


def bid_event(
    auction_id: int, *, seq: int, price: int, ends_at: Any, bidder: str
) -> dict[str, Any]:
    """What a watcher learns of a bid: no identity, only the round's public code label."""
    return {
        "type": "bid",
        "auction_id": auction_id,
        "seq": seq,
        "price": format_yuan(price),
        "ends_at": ends_at.isoformat(),
        "bidder": bidder,
    }


def closed_event(
    auction_id: int, *, status: str, price: int | None, winner: str | None
) -> dict[str, Any]:
    """The round's end (``sold`` or ``failed``): the hammer price and the winner's code label.
    It is the last event of a round; streams end after it."""
    return {
        "type": "closed",
        "auction_id": auction_id,
        "status": status,
        "price": format_yuan(price) if price is not None else None,
        "winner": winner,
    }


def publish_after_commit(session: AsyncSession, auction_id: int, item: dict[str, Any]) -> None:
    """Publish ``item`` once the session's transaction has committed (never on rollback)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session.sync_session, "after_commit", _flush, once=True)
        event.listen(session.sync_session, "after_soft_rollback", _drop, once=True)
    pending.append((auction_id, item))


def _flush(sync_session: Any) -> None:
    for auction_id, item in sync_session.info.pop(_PENDING, ()):
        try:
            _broadcaster.publish(auction_id, item)
        except Exception:  # a watcher's channel must never break a committed bid
            log.exception("auction live: publish failed")


def _drop(sync_session: Any, previous_transaction: Any) -> None:
    sync_session.info.pop(_PENDING, None)
