"""A judicial auction end to end through the HTTP API: case, frozen asset, announcement,
deposits, bids with a soft-close extension, the close by the service clock, the balance paid
into the case (fees first), the asset sold and its freeze released, deposits refunded, stats."""

from __future__ import annotations

import datetime as dt

from auction import payments
from tests.auction.helpers import auction_body, frozen_asset, new_bidder
from tests.factories import create_case


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_auction_from_frozen_asset_to_proceeds(client, officer, frozen_clock, runner):
    escrow = payments.MockPaymentProvider()
    previous = payments.set_provider(escrow)
    try:
        await _flow(client, officer, frozen_clock, runner, escrow)
    finally:
        payments.set_provider(previous)


async def _flow(client, officer, frozen_clock, runner, escrow) -> None:
    case = await create_case(client, officer)
    cid = case["id"]
    # the asset frozen for the case (the assets domain's tables; its registry calls are elsewhere)
    asset_id = await frozen_asset(cid, case["respondents"][0]["id"], value=100_000_000)
    assets = (await client.get(f"/cases/{cid}/assets", headers=officer)).json()["items"]
    assert [a["freeze"]["status"] for a in assets if a["id"] == asset_id] == ["active"]

    created = await client.post("/auctions", json=auction_body(asset_id), headers=officer)
    assert created.status_code == 201, created.text
    auction = created.json()
    aid = auction["id"]
    assert (await client.get(f"/auctions/{aid}")).json()["status"] == "scheduled"

    bidders = {}
    for name in ("甲", "乙", "丙"):
        _, headers, _ = await new_bidder(client, name)
        paid = await client.post(f"/auctions/{aid}/registrations", headers=headers)
        assert paid.status_code == 201, paid.text
        bidders[name] = headers

    frozen_clock.set(_at(auction["starts_at"]) + dt.timedelta(hours=1))
    bids = [("甲", "700000.00"), ("乙", "720000.00"), ("甲", "750000.00")]
    for name, amount in bids:
        placed = await client.post(
            f"/auctions/{aid}/bids", json={"amount": amount}, headers=bidders[name]
        )
        assert placed.status_code == 201, placed.text
    low = await client.post(
        f"/auctions/{aid}/bids", json={"amount": "750000.00"}, headers=bidders["丙"]
    )
    assert low.json()["error"]["code"] == "bid_too_low"

    ends = _at(auction["ends_at"])
    frozen_clock.set(ends - dt.timedelta(minutes=2))  # the last two minutes: a late bid
    late = await client.post(
        f"/auctions/{aid}/bids", json={"amount": "760000.00"}, headers=bidders["乙"]
    )
    assert late.status_code == 201
    extended = _at(late.json()["ends_at"])
    assert extended == ends + dt.timedelta(minutes=3)

    frozen_clock.set(ends + dt.timedelta(seconds=10))  # the old end: still open
    await runner.run_due()
    assert (await client.get(f"/auctions/{aid}")).json()["status"] == "open"
    frozen_clock.set(extended + dt.timedelta(seconds=10))
    await runner.fire_crons()
    await runner.run_due()
    closed = (await client.get(f"/auctions/{aid}")).json()
    assert closed["status"] == "sold" and closed["hammer_price"] == "760000.00"
    assert closed["bid_count"] == 4
    assert len(escrow.refunded) == 2  # 甲 and 丙, within the 24 hours

    settled = await client.post(f"/auctions/{aid}/payment", headers=bidders["乙"])
    assert settled.status_code == 200, settled.text

    case_now = (await client.get(f"/cases/{cid}", headers=officer)).json()
    assert case_now["status"] == "satisfied" and case_now["fee_outstanding"] == "0.00"
    recorded = (await client.get(f"/cases/{cid}/payments", headers=officer)).json()
    assert [p["source"] for p in recorded] == ["auction"]
    assert recorded[0]["to_fee"] == case["fee"]  # fees first (诉讼费用 before the principal)
    asset = (await client.get(f"/assets/{asset_id}", headers=officer)).json()
    assert asset["status"] == "sold"
    freezes = (await client.get(f"/freezes?case_id={cid}", headers=officer)).json()["items"]
    assert [f["status"] for f in freezes] == ["released"]

    stats = (await client.get("/stats", headers=officer)).json()["auctions"]
    assert stats["sold"] == 1 and stats["proceeds"] == "760000.00"
    assert stats["commission_charged"] == "0.00" and stats["commission_saved"] != "0.00"
    await runner.fire_crons()
    await runner.run_due()
    assert len(escrow.refunded) == 2  # never twice
