"""Live updates (server-sent events) and the audit of accepted bids."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from typing import Any

import httpx
from sqlalchemy import select

from auction import live
from enforcement.core.models import AuditRecord
from tests.auction.helpers import bid, new_auction, registered_bidder
from tests.conftest import requires_redis


def _events(text: str) -> list[dict[str, Any]]:
    """The JSON data of every event in an SSE body."""
    return [
        json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")
    ]


async def _subscribed(aid: int) -> None:
    for _ in range(200):  # until the watcher has subscribed
        await asyncio.sleep(0.01)
        broadcaster = live.broadcaster()
        if isinstance(broadcaster, live.RedisBroadcaster):
            subscribed = await broadcaster.redis.pubsub_numsub(broadcaster.channel(aid))
            if subscribed and subscribed[0][1]:
                return
        elif broadcaster.watchers.get(aid):
            return
    raise AssertionError("the watcher never subscribed")


async def _watch_three_bids(
    client: httpx.AsyncClient, officer: dict[str, str], clock: Any
) -> list[dict[str, Any]]:
    """Open a stream of 2 bid events, bid three times (one refused), return what it saw."""
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    b = await registered_bidder(client, aid, "乙")
    clock.set(dt.datetime.fromisoformat(auction["starts_at"]) + dt.timedelta(hours=1))
    watcher = asyncio.create_task(client.get(f"/auctions/{aid}/events?max_events=2"))
    await _subscribed(aid)
    assert (await bid(client, aid, a, "700000.00")).status_code == 201
    assert (await bid(client, aid, b, "700000.00")).status_code == 409  # refused: no event
    assert (await bid(client, aid, b, "720000.00")).status_code == 201
    response = await asyncio.wait_for(watcher, 10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return _events(response.text)


async def test_watchers_see_each_accepted_bid_after_commit(client, officer, frozen_clock):
    state, first, second = await _watch_three_bids(client, officer, frozen_clock)
    assert state["type"] == "state" and state["price"] is None
    assert [first["seq"], second["seq"]] == [1, 2]
    assert [first["price"], second["price"]] == ["700000.00", "720000.00"]
    assert first["bidder"].startswith("竞买号 ") and first["bidder"] != second["bidder"]
    assert "甲" not in json.dumps([first, second], ensure_ascii=False)  # anonymous until the end
    assert dt.datetime.fromisoformat(second["ends_at"]).tzinfo is not None


@requires_redis
async def test_watchers_over_redis_pubsub(client, officer, frozen_clock):
    url = os.environ["ENFORCEMENT_TEST_REDIS_URL"]
    previous = live.set_broadcaster(live.RedisBroadcaster(url, "enforcement-test:"))
    try:
        _, first, second = await _watch_three_bids(client, officer, frozen_clock)
    finally:
        await live.set_broadcaster(previous).aclose()
    assert [first["seq"], second["seq"]] == [1, 2]


async def test_watchers_see_the_close_and_the_stream_ends(client, officer, frozen_clock, runner):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    frozen_clock.set(dt.datetime.fromisoformat(auction["starts_at"]) + dt.timedelta(hours=1))
    watcher = asyncio.create_task(client.get(f"/auctions/{aid}/events"))  # no max_events
    await _subscribed(aid)
    assert (await bid(client, aid, a, "700000.00")).status_code == 201
    frozen_clock.set(dt.datetime.fromisoformat(auction["ends_at"]) + dt.timedelta(seconds=5))
    await runner.run_due()
    response = await asyncio.wait_for(watcher, 10)  # ends by itself after the close
    state, placed, closed = _events(response.text)
    assert placed["type"] == "bid"
    assert closed == {
        "type": "closed",
        "auction_id": aid,
        "status": "sold",
        "price": "700000.00",
        "winner": placed["bidder"],
    }
    after = await asyncio.wait_for(client.get(f"/auctions/{aid}/events"), 10)
    assert [e["type"] for e in _events(after.text)] == ["state"]  # a closed round: no waiting


async def test_unknown_auction_has_no_stream(client):
    response = await client.get("/auctions/999999/events")
    assert response.status_code == 404


async def test_accepted_bids_are_audited_refusals_are_not(client, officer, frozen_clock, uow):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    starts = dt.datetime.fromisoformat(auction["starts_at"])
    frozen_clock.set(dt.datetime.fromisoformat(auction["ends_at"]) - dt.timedelta(minutes=1))
    assert starts < frozen_clock.now()
    placed = await bid(client, aid, a, "700000.00")
    assert placed.status_code == 201
    assert (await bid(client, aid, a, "690000.00")).status_code == 409
    async with uow() as s:
        rows = (
            (
                await s.execute(
                    select(AuditRecord).where(AuditRecord.action == "auction.bid_accepted")
                )
            )
            .scalars()
            .all()
        )
    assert len(rows) == 1
    record = rows[0]
    assert record.entity_id == str(aid) and record.actor_role == "bidder"
    assert record.before["current_price"] is None
    assert record.after["current_price"] == 70_000_000
    assert record.after["ends_at"] == placed.json()["ends_at"] or dt.datetime.fromisoformat(
        record.after["ends_at"]
    ) == dt.datetime.fromisoformat(placed.json()["ends_at"])
    assert record.before["ends_at"] != record.after["ends_at"]  # the late bid extended the end
