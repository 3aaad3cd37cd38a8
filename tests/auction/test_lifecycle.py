"""Whole rounds driven by the service clock: announcement, bidding, extension, close, payment,
default and re-auction, failure and disposal, refunds exactly once, a close run twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from auction import closing
from auction.models import Auction, Registration, Settlement
from enforcement.cases.models import Payment
from enforcement.core import clock
from tests.auction.helpers import bid, new_auction, registered_bidder

GRACE = dt.timedelta(seconds=3)


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def _sold_auction(
    client, officer, frozen_clock, runner, *, price="720000.00", principal=None
):
    overrides = {}
    auction = await new_auction(client, officer, **overrides)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    b = await registered_bidder(client, aid, "乙")
    c = await registered_bidder(client, aid, "丙")
    frozen_clock.set(_at(auction["starts_at"]) + dt.timedelta(hours=1))
    assert (await bid(client, aid, a, "700000.00")).status_code == 201
    assert (await bid(client, aid, b, "710000.00")).status_code == 201
    assert (await bid(client, aid, a, price)).status_code == 201
    frozen_clock.set(_at(auction["ends_at"]) + GRACE)
    await runner.run_due()
    return auction, a, b, c


async def test_cron_runs_a_whole_auction_by_moving_the_clock(
    client, officer, frozen_clock, runner, provider, uow
):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    b = await registered_bidder(client, aid, "乙")
    frozen_clock.set(_at(auction["starts_at"]))
    await runner.fire_crons()
    await runner.run_due()
    assert (await client.get(f"/auctions/{aid}")).json()["status"] == "open"
    async with uow() as s:
        assert (await s.get(Auction, aid)).status == "open"
    ends = _at(auction["ends_at"])
    frozen_clock.set(ends - dt.timedelta(seconds=30))
    first = await bid(client, aid, a, "700000.00")
    moved = _at(first.json()["ends_at"])
    assert moved == ends - dt.timedelta(seconds=30) + dt.timedelta(minutes=5)
    frozen_clock.set(ends + GRACE)  # the old end: the deferred close must re-schedule itself
    await runner.run_due()
    assert (await client.get(f"/auctions/{aid}")).json()["status"] == "open"
    frozen_clock.set(moved - dt.timedelta(seconds=1))
    second = await bid(client, aid, b, "710000.00")
    assert _at(second.json()["ends_at"]) == moved + dt.timedelta(minutes=4, seconds=59)
    frozen_clock.set(_at(second.json()["ends_at"]) + dt.timedelta(minutes=1))
    await runner.fire_crons()
    await runner.run_due()
    state = (await client.get(f"/auctions/{aid}")).json()
    assert state["status"] == "sold"
    assert state["hammer_price"] == "710000.00"
    assert state["commission"] == "0.00"
    assert state["winner"]["bidder"] == state["bids"][-1]["bidder"]
    assert state["winner"]["name"] == "乙*"
    assert len(provider.refunded) == 1  # 甲's deposit; 乙's counts toward the price


async def test_sale_payment_settles_the_case(client, officer, frozen_clock, runner, provider, uow):
    auction, a, b, c = await _sold_auction(client, officer, frozen_clock, runner)
    aid = auction["id"]
    confirmation = await client.get(f"/auctions/{aid}/confirmation", headers=officer)
    assert confirmation.status_code == 200
    data = confirmation.json()
    assert data["buyer_name"] == "甲" and len(data["buyer_identifier"]) == 18
    assert data["hammer_price"] == "720000.00"
    assert data["balance"] == "650000.00"
    assert data["commission_charged"] == "0.00"
    assert data["commission_saved"] == "36000.00"
    assert len(provider.refunded) == 2  # 乙 and 丙, each once
    await runner.fire_crons()
    await runner.run_due()
    assert len(provider.refunded) == 2
    loser = await client.post(f"/auctions/{aid}/payment", headers=b)
    assert loser.json()["error"]["code"] == "not_winner"
    paid = await client.post(f"/auctions/{aid}/payment", headers=a)
    assert paid.status_code == 200, paid.text
    body = paid.json()
    case = auction["case"]
    owed = 100000_00 + 0  # principal; the fee is added below from the case read
    case_now = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    assert case_now["status"] == "satisfied"
    assert body["to_case"] != "0.00"
    assert int(body["to_case"].replace(".", "")) >= owed
    assert int(body["surplus_returned"].replace(".", "")) == 720000_00 - int(
        body["to_case"].replace(".", "")
    )
    async with uow() as s:
        payments = (
            (await s.execute(select(Payment).where(Payment.case_id == case["id"]))).scalars().all()
        )
        assert [p.source for p in payments] == ["auction"]
        from enforcement.assets.models import Asset, Freeze

        asset = await s.get(Asset, auction["asset_id"])
        assert asset.status == "sold"
        freeze = (await s.execute(select(Freeze).where(Freeze.asset_id == asset.id))).scalar_one()
        assert freeze.status == "released"
    twice = await client.post(f"/auctions/{aid}/payment", headers=a)
    assert twice.json()["error"]["code"] == "auction_wrong_state"
    stats = (await client.get("/stats", headers=officer)).json()["auctions"]
    assert stats["sold"] == 1 and stats["commission_saved"] == "36000.00"
    assert stats["proceeds"] == "720000.00" and stats["commission_charged"] == "0.00"


async def test_default_forfeits_bars_and_reauctions(
    client, officer, frozen_clock, runner, provider, uow
):
    auction, a, b, c = await _sold_auction(client, officer, frozen_clock, runner)
    aid = auction["id"]
    due = _at(auction["ends_at"]).astimezone(clock.SHANGHAI).date() + dt.timedelta(days=15)
    frozen_clock.set(dt.datetime.combine(due, dt.time(23, 0), tzinfo=clock.SHANGHAI))
    await runner.fire_crons()
    await runner.run_due()
    assert (await client.get(f"/auctions/{aid}")).json()["status"] == "sold"  # still on time
    frozen_clock.advance(hours=1, minutes=1)
    await runner.fire_crons()
    await runner.run_due()
    state = (await client.get(f"/auctions/{aid}")).json()
    assert state["status"] == "defaulted"
    late = await client.post(f"/auctions/{aid}/payment", headers=a)
    assert late.json()["error"]["code"] == "auction_wrong_state"
    async with uow() as s:
        settlement = (await s.execute(select(Settlement))).scalar_one()
        assert settlement.status == "defaulted"
        regs = (await s.execute(select(Registration).order_by(Registration.id))).scalars().all()
        assert [r.status for r in regs] == ["forfeited", "refunded", "refunded"]
        nxt = (await s.execute(select(Auction).where(Auction.previous_id == aid))).scalar_one()
    assert nxt.starting_price == 700000_00  # a default re-auction keeps the price
    assert nxt.round == 1
    assert nxt.starts_at - nxt.announced_at == dt.timedelta(days=7)
    barred = await client.post(f"/auctions/{nxt.id}/registrations", headers=a)
    assert barred.json()["error"]["code"] == "bidder_barred"
    ok = await client.post(f"/auctions/{nxt.id}/registrations", headers=b)
    assert ok.status_code == 201
    assert len(provider.refunded) == 2


async def test_failures_lead_to_reauction_then_disposal(client, officer, frozen_clock, runner, uow):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid)
    frozen_clock.set(_at(auction["ends_at"]) + GRACE)
    await runner.run_due()
    assert (await client.get(f"/auctions/{aid}")).json()["status"] == "failed"
    listed = (await client.get("/auctions", params={"status": "scheduled"})).json()["items"]
    second = (await client.get(f"/auctions/{listed[0]['id']}")).json()
    assert second["round"] == 2 and second["previous_id"] == aid
    assert second["starting_price"] == "560000.00"
    assert second["deposit"] == "56000.00"
    assert _at(second["starts_at"]) - _at(second["announced_at"]) == dt.timedelta(days=7)
    assert (await client.post(f"/auctions/{aid}/registrations", headers=a)).json()["error"][
        "code"
    ] == "auction_closed"
    frozen_clock.set(_at(second["ends_at"]) + GRACE)
    await runner.run_due()
    assert (await client.get(f"/auctions/{second['id']}")).json()["status"] == "failed"
    assert (await client.get("/auctions", params={"status": "scheduled"})).json()["items"] == []
    decided = await client.post(
        f"/auctions/{second['id']}/disposal", json={"mode": "in_lieu"}, headers=officer
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "in_lieu"
    assert decided.json()["price"] == "560000.00"
    case = (await client.get(f"/cases/{auction['case']['id']}", headers=officer)).json()
    assert case["status"] == "satisfied"
    again = await client.post(
        f"/auctions/{second['id']}/disposal", json={"mode": "released"}, headers=officer
    )
    assert again.json()["error"]["code"] == "auction_wrong_state"
    stats = (await client.get("/stats", headers=officer)).json()["auctions"]
    assert stats["failed"] == 2


async def _two_failures(client, officer, frozen_clock, runner) -> tuple[dict, dict]:
    """A first auction and its re-auction, both without a bid: a disposal is pending."""
    auction = await new_auction(client, officer)
    frozen_clock.set(_at(auction["ends_at"]) + GRACE)
    await runner.run_due()
    listed = (await client.get("/auctions", params={"status": "scheduled"})).json()["items"]
    second = (await client.get(f"/auctions/{listed[0]['id']}")).json()
    frozen_clock.set(_at(second["ends_at"]) + GRACE)
    await runner.run_due()
    assert (await client.get(f"/auctions/{second['id']}")).json()["status"] == "failed"
    return auction, second


async def test_fixed_price_sale_after_two_failures_sells_through_a_24h_window(
    client, officer, frozen_clock, runner, provider, uow
):
    auction, second = await _two_failures(client, officer, frozen_clock, runner)
    decided_at = frozen_clock.now()
    decided = await client.post(
        f"/auctions/{second['id']}/disposal", json={"mode": "fixed_price_sale"}, headers=officer
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "fixed_price_sale"
    sale_id = decided.json()["sale_auction_id"]
    sale = (await client.get(f"/auctions/{sale_id}")).json()
    assert sale["mode"] == "sale" and sale["previous_id"] == second["id"]
    assert sale["starting_price"] == second["starting_price"] == "560000.00"  # 2nd start
    assert sale["deposit"] == second["deposit"]
    assert _at(sale["starts_at"]) == decided_at
    assert _at(sale["ends_at"]) - _at(sale["starts_at"]) == dt.timedelta(days=60)
    listed = (await client.get("/auctions")).json()["items"]
    assert {"id": sale_id, "mode": "sale"}.items() <= next(
        i for i in listed if i["id"] == sale_id
    ).items()

    a = await registered_bidder(client, sale_id, "甲")
    b = await registered_bidder(client, sale_id, "乙")
    frozen_clock.advance(days=10)
    low = await bid(client, sale_id, a, "550000.00")
    assert low.json()["error"]["code"] == "bid_too_low"  # the price is the floor
    first = await bid(client, sale_id, a, "560000.00")
    assert first.status_code == 201, first.text
    window_end = frozen_clock.now() + dt.timedelta(hours=24)
    assert _at(first.json()["ends_at"]) == window_end  # the first bid opens 24 h
    frozen_clock.set(window_end - dt.timedelta(minutes=1))
    late = await bid(client, sale_id, b, "570000.00")
    assert _at(late.json()["ends_at"]) == window_end + dt.timedelta(minutes=4)
    frozen_clock.set(window_end + dt.timedelta(minutes=4) + GRACE)
    await runner.fire_crons()
    await runner.run_due()
    state = (await client.get(f"/auctions/{sale_id}")).json()
    assert state["status"] == "sold" and state["hammer_price"] == "570000.00"
    assert state["commission"] == "0.00"
    paid = await client.post(f"/auctions/{sale_id}/payment", headers=b)
    assert paid.status_code == 200, paid.text
    case = (await client.get(f"/cases/{auction['case']['id']}", headers=officer)).json()
    assert case["status"] == "satisfied"
    async with uow() as s:
        from enforcement.assets.models import Asset

        assert (await s.get(Asset, auction["asset_id"])).status == "sold"


async def test_a_failed_fixed_price_sale_can_only_go_in_lieu_or_be_released(
    client, officer, frozen_clock, runner, uow
):
    auction, second = await _two_failures(client, officer, frozen_clock, runner)
    decided = await client.post(
        f"/auctions/{second['id']}/disposal", json={"mode": "fixed_price_sale"}, headers=officer
    )
    sale_id = decided.json()["sale_auction_id"]
    sale = (await client.get(f"/auctions/{sale_id}")).json()
    frozen_clock.set(_at(sale["ends_at"]) + GRACE)  # 60 days, nobody bid
    await runner.fire_crons()
    await runner.run_due()
    assert (await client.get(f"/auctions/{sale_id}")).json()["status"] == "failed"
    again = await client.post(
        f"/auctions/{sale_id}/disposal", json={"mode": "fixed_price_sale"}, headers=officer
    )
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "sale_already_failed"
    async with uow() as s:
        rounds = (await s.execute(select(func.count()).select_from(Auction))).scalar_one()
    assert rounds == 3  # the refusal opened nothing
    released = await client.post(
        f"/auctions/{sale_id}/disposal", json={"mode": "released"}, headers=officer
    )
    assert released.status_code == 200 and released.json()["status"] == "released"


async def test_close_twice_finalizes_once(client, officer, frozen_clock, runner, uow):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid)
    frozen_clock.set(_at(auction["starts_at"]))
    await bid(client, aid, a, "700000.00")
    frozen_clock.set(_at(auction["ends_at"]) + GRACE)
    outcomes = []
    for _ in range(2):
        async with uow() as s:
            outcomes.append(await closing.close_auction(s, aid, clock.now()))
    assert outcomes == ["sold", "already_sold"]
    await runner.run_due()
    async with uow() as s:
        assert await s.scalar(select(func.count()).select_from(Settlement)) == 1


async def test_a_close_that_dies_leaves_nothing_and_reruns_once(
    client, officer, frozen_clock, runner, uow, monkeypatch, provider
):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    await registered_bidder(client, aid, "乙")
    frozen_clock.set(_at(auction["starts_at"]))
    await bid(client, aid, a, "700000.00")
    frozen_clock.set(_at(auction["ends_at"]) + GRACE)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(closing, "schedule_refunds", crash)
    with pytest.raises(RuntimeError):
        async with uow() as s:
            await closing.close_auction(s, aid, clock.now())
    async with uow() as s:
        assert (await s.get(Auction, aid)).status in ("scheduled", "open")
        assert await s.scalar(select(func.count()).select_from(Settlement)) == 0
    monkeypatch.undo()
    await runner.fire_crons()
    await runner.run_due()
    await runner.fire_crons()
    await runner.run_due()
    async with uow() as s:
        assert (await s.get(Auction, aid)).status == "sold"
        assert await s.scalar(select(func.count()).select_from(Settlement)) == 1
    assert len(provider.refunded) == 1


async def test_cancel_refunds_every_deposit_once(client, officer, runner, provider):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    for name in "甲乙丙":
        await registered_bidder(client, aid, name)
    response = await client.post(
        f"/auctions/{aid}/cancel", json={"reason": "paid"}, headers=officer
    )
    assert response.status_code == 200
    await runner.run_due()
    await runner.fire_crons()
    await runner.run_due()
    assert len(provider.refunded) == 3
    assert provider.calls == 3 + 3  # three collects, three refunds: no repeat
