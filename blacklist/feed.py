"""The feed is the outbox: every listing change appends here, in the writer's transaction.

Sequence numbers come from one counter row that the writing transaction upserts: its row
lock (PostgreSQL) or the single writer (SQLite) makes the next writer wait until this one
commits, so ``seq`` is gap-free and in commit order and a reader of ``seq > cursor`` never
skips a row that commits late. Webhook deliveries are enqueued here too (released after
commit). The export streams current listings from one snapshot with the ``seq`` it matches;
on PostgreSQL it passes the bytes of ``COPY (SELECT record …)`` straight to the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from blacklist.errors import CursorAhead, InvalidCursor
from blacklist.models import FeedCounter, Listing, ListingChange, WebhookSubscription
from enforcement.core import clock, db, jobs

_COUNTER_ID = 1
_SUBSCRIBERS = "blacklist_webhook_subscribers"
DELIVER_JOB = "blacklist.deliver_webhooks"
EXPORT_BATCH = 5000
EXPORT_QUERY = "SELECT record FROM listings WHERE status = 'active' ORDER BY id"
COPY_OPTIONS: dict[str, str] = {"format": "csv", "delimiter": "\x01", "quote": "\x02"}
"""CSV with a delimiter and a quote character that JSON text never holds raw (encoders escape
control characters): PostgreSQL then emits every stored record byte for byte, one a line,
which is NDJSON as it stands. The text format would double the backslashes of JSON escapes."""
_EXPORT_CHUNK = 1 << 20
_EXPORT_QUEUE = 16


async def next_seq(session: AsyncSession) -> int:
    """Take the next sequence number; the row lock is held until this transaction ends."""
    dialect = postgresql if db.is_postgres(session) else sqlite
    statement = dialect.insert(FeedCounter).values(id=_COUNTER_ID, last_seq=1)
    statement = statement.on_conflict_do_update(
        index_elements=[FeedCounter.id], set_={"last_seq": FeedCounter.last_seq + 1}
    ).returning(FeedCounter.last_seq)
    return int((await session.execute(statement)).scalar_one())


async def head(session: AsyncSession | AsyncConnection) -> int:
    """The newest committed sequence number visible to this transaction (0 when empty)."""
    value = await session.scalar(select(FeedCounter.last_seq).where(FeedCounter.id == _COUNTER_ID))
    return int(value or 0)


async def append(session: AsyncSession, listing: Listing, change: str, reason: str | None) -> int:
    """Log one change with the listing's current record; wake the webhook subscribers."""
    seq = await next_seq(session)
    session.add(
        ListingChange(
            seq=seq,
            listing_id=listing.id,
            version=listing.version,
            type=change,
            reason=reason,
            record=listing.record,
            at=clock.now(),
        )
    )
    for subscription_id in await _active_subscriptions(session):
        jobs.enqueue(
            session, DELIVER_JOB, subscription_id, job_id=f"webhook:{subscription_id}:{seq}"
        )
    return seq


async def _active_subscriptions(session: AsyncSession) -> list[int]:
    """Active subscription ids, read once per transaction (bulk changes stay cheap)."""
    cached: list[int] | None = session.info.get(_SUBSCRIBERS)
    if cached is None:
        rows = await session.scalars(
            select(WebhookSubscription.id).where(WebhookSubscription.status == "active")
        )
        cached = session.info[_SUBSCRIBERS] = list(rows)
    return cached


def parse_cursor(after: str | None) -> int:
    """``after`` is a non-negative integer; anything else is a 422, not an empty page."""
    if after is None or after == "":
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > 18:
        raise InvalidCursor(details={"after": after[:40]})
    return int(after)


async def read_changes(session: AsyncSession, after: int, limit: int) -> tuple[list[Any], int]:
    """Changes after ``after`` in ``seq`` order and the cursor to continue from."""
    current = await head(session)
    if after > current:
        raise CursorAhead(details={"after": after, "head": current})
    rows = (
        await session.execute(
            select(
                ListingChange.seq,
                ListingChange.type,
                ListingChange.at,
                ListingChange.reason,
                ListingChange.record,
            )
            .where(ListingChange.seq > after, ListingChange.seq <= current)
            .order_by(ListingChange.seq)
            .limit(limit)
        )
    ).all()
    return list(rows), rows[-1].seq if rows else after


def event_json(seq: int, change: str, at: dt.datetime, reason: str | None, record: str) -> str:
    """One feed event as JSON text; the stored record is passed through, not re-encoded."""
    reason_json = "null" if reason is None else f'"{reason}"'
    return (
        f'{{"seq":{seq},"type":"{change}","at":"{at.isoformat()}",'
        f'"reason":{reason_json},"listing":{record}}}'
    )


def page_json(rows: list[Any], next_seq_value: int) -> str:
    """A feed page as JSON text: ``{"events": [...], "next": SEQ}``."""
    events = ",".join(event_json(r.seq, r.type, r.at, r.reason, r.record) for r in rows)
    return f'{{"events":[{events}],"next":{next_seq_value}}}'


class ExportSnapshot:
    """One read-only snapshot: the feed head and every current listing, consistent together."""

    def __init__(self, connection: AsyncConnection, seq: int) -> None:
        self.connection = connection
        self.seq = seq
        self._closed = False

    @classmethod
    async def open(cls, engine: AsyncEngine) -> ExportSnapshot:
        """Begin a REPEATABLE READ transaction (PostgreSQL) and read the head inside it."""
        connection = await engine.connect()
        try:
            if connection.dialect.name == "postgresql":
                connection = await connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            await connection.begin()
            return cls(connection, await head(connection))
        except BaseException:
            await connection.close()
            raise

    async def lines(self) -> AsyncIterator[bytes]:
        """NDJSON chunks: PostgreSQL's COPY bytes passed through, elsewhere batches of records
        read through a streamed result."""
        try:
            if self.connection.dialect.name == "postgresql":
                async for chunk in self._copy_chunks():
                    yield chunk
            else:
                async for records in self._portable_chunks():
                    yield ("\n".join(records) + "\n").encode()
        finally:
            await self.close()

    async def _portable_chunks(self) -> AsyncIterator[list[str]]:
        """SQLite and others: SQLAlchemy's streamed result in partitions."""
        query = (
            select(Listing.record)
            .where(Listing.status == "active")
            .order_by(Listing.id)
            .execution_options(yield_per=EXPORT_BATCH)
        )
        result = await self.connection.stream(query)
        async for partition in result.partitions():
            yield [row[0] for row in partition]

    async def _copy_chunks(self) -> AsyncIterator[bytes]:
        """The hot path: ``COPY (SELECT record …) TO STDOUT`` inside our snapshot, its bytes
        handed to the response through a bounded queue (a slow client slows the COPY, memory
        stays bounded) and merged into chunks of about a megabyte; no per-row Python work."""
        raw = await self.connection.get_raw_connection()
        driver: Any = raw.driver_connection
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        slots = asyncio.Semaphore(_EXPORT_QUEUE)

        async def sink(data: bytes) -> None:
            await slots.acquire()
            queue.put_nowait(data)

        async def produce() -> None:
            try:
                await driver.copy_from_query(EXPORT_QUERY, output=sink, **COPY_OPTIONS)
            finally:
                queue.put_nowait(None)  # never blocks: the queue is unbounded, the slots are not

        task = asyncio.create_task(produce())
        try:
            finished = False
            while not finished:
                item = await queue.get()
                if item is None:
                    break
                slots.release()
                parts, size = [item], len(item)
                while size < _EXPORT_CHUNK and not queue.empty():
                    more = queue.get_nowait()
                    if more is None:
                        finished = True
                        break
                    slots.release()
                    parts.append(more)
                    size += len(more)
                yield b"".join(parts)
            await task  # a failed COPY raises here: the client sees a cut stream, not a short one
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def close(self) -> None:
        """End the snapshot (idempotent: the stream and the response both call it)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.connection.rollback()
        except Exception:  # e.g. a COPY cut short: do not pool a connection in doubt
            await self.connection.invalidate()
        finally:
            await self.connection.close()
