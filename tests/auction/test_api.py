"""The auction API through HTTP: creation rules, sign-up, deposits and every bid refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.auction.helpers import (
    auction_body,
    bid,
    case_with_asset,
    frozen_asset,
    new_auction,
    new_bidder,
    org_code,
    registered_bidder,
)


async def _open(frozen_clock, auction):
    frozen_clock.set(dt.datetime.fromisoformat(auction["starts_at"]) + dt.timedelta(minutes=1))


async def test_create_auction_is_public_at_once(client, officer):
    auction = await new_auction(client, officer)
    assert auction["status"] == "scheduled"
    assert auction["current_price"] is None
    assert auction["minimum_bid"] == "700000.00"
    public = await client.get(f"/auctions/{auction['id']}")
    assert public.status_code == 200
    listed = await client.get("/auctions", params={"status": "scheduled"})
    assert [a["id"] for a in listed.json()["items"]] == [auction["id"]]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"starting_price": "699999.99"}, "starting_price_too_low"),
        ({"deposit": "34999.99"}, "deposit_out_of_range"),
        ({"deposit": "140000.01"}, "deposit_out_of_range"),
        ({"increment": "0.00"}, "invalid_amount"),
        (
            {"starts_at": "2026-03-10T09:00:00+08:00", "ends_at": "2026-03-12T09:00:00+08:00"},
            "announcement_too_short",
        ),
        ({"ends_at": None}, "bidding_period_too_short"),
        ({"starts_at": "2026-04-01T09:00:00"}, "invalid_datetime"),
        ({"surprise": 1}, "unknown_field"),
    ],
)
async def test_create_auction_refusals(client, officer, overrides, code):
    _, asset_id = await case_with_asset(client, officer)
    body = auction_body(asset_id, **overrides)
    if overrides.get("ends_at", "") is None:
        start = dt.datetime.fromisoformat(body["starts_at"])
        body["ends_at"] = (start + dt.timedelta(hours=23)).isoformat()
    response = await client.post("/auctions", json=body, headers=officer)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_create_auction_asset_checks(client, officer, make_token):
    case, asset_id = await case_with_asset(client, officer)
    party = case["respondents"][0]["id"]
    unfrozen = await frozen_asset(case["id"], party, freeze=None)
    deposit = await frozen_asset(case["id"], party, kind="deposit")
    for target, status, code in [
        (unfrozen, 409, "asset_not_frozen"),
        (deposit, 409, "asset_not_saleable"),
        (999_999, 404, "asset_not_found"),
    ]:
        response = await client.post("/auctions", json=auction_body(target), headers=officer)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    other = await make_token("officer", court="甘0702")
    response = await client.post("/auctions", json=auction_body(asset_id), headers=other)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "wrong_court")
    ok = await client.post("/auctions", json=auction_body(asset_id), headers=officer)
    assert ok.status_code == 201
    again = await client.post("/auctions", json=auction_body(asset_id), headers=officer)
    assert again.json()["error"]["code"] == "asset_already_listed"


async def test_equity_needs_thirty_days(client, officer):
    _, asset_id = await case_with_asset(client, officer, kind="equity")
    response = await client.post("/auctions", json=auction_body(asset_id), headers=officer)
    assert response.json()["error"]["code"] == "announcement_too_short"


async def test_roles(client, officer):
    _, headers, _ = await new_bidder(client)
    _, asset_id = await case_with_asset(client, officer)
    response = await client.post("/auctions", json=auction_body(asset_id), headers=headers)
    assert response.json()["error"]["code"] == "wrong_role"
    auction = await new_auction(client, officer)
    response = await client.post(f"/auctions/{auction['id']}/registrations", headers=officer)
    assert response.json()["error"]["code"] == "wrong_role"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"name": "甲", "id_number": "110101199003071234", "phone": "13800000000"},
            "invalid_id_number",
        ),
        (
            {"name": "甲", "credit_code": "91110000000000000X", "phone": "13800000000"},
            "invalid_credit_code",
        ),
        ({"name": "甲", "phone": "13800000000"}, "missing_identifier"),
        ({"name": "甲", "id_number": None, "phone": "x"}, "invalid_input"),
    ],
)
async def test_bidder_signup_validates_identifiers(client, body, code):
    response = await client.post("/bidders", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_organizations_sign_up(client):
    response = await client.post(
        "/bidders", json={"name": "某公司", "credit_code": org_code(), "phone": "0935-1234567"}
    )
    assert response.status_code == 201
    assert response.json()["token"].startswith("ee_")


async def test_registration_pays_deposit_once(client, officer, provider):
    auction = await new_auction(client, officer)
    _, headers, _ = await new_bidder(client)
    first = await client.post(f"/auctions/{auction['id']}/registrations", headers=headers)
    assert first.status_code == 201
    assert first.json()["deposit"] == "70000.00"
    assert first.json()["bidder"].startswith("竞买号 ")
    again = await client.post(f"/auctions/{auction['id']}/registrations", headers=headers)
    assert again.json()["error"]["code"] == "already_registered"
    assert len(provider.collected) == 1


async def test_declined_deposit(client, officer, provider):
    auction = await new_auction(client, officer)
    _, headers, number = await new_bidder(client)
    provider.decline_payers.add(number)
    response = await client.post(f"/auctions/{auction['id']}/registrations", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (402, "payment_failed")


async def test_bid_refusals_each_have_a_code_and_change_nothing(
    client, officer, admin, frozen_clock
):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    b = await registered_bidder(client, aid, "乙")
    _, stranger, _ = await new_bidder(client, "丙")
    early = await bid(client, aid, a, "700000.00")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "auction_not_open")
    await _open(frozen_clock, auction)
    cases = [
        (a, "690000.00", {}, 409, "bid_too_low"),
        (a, "705000.00", {}, 422, "bad_increment"),
        (stranger, "700000.00", {}, 409, "no_deposit"),
        (a, "900000.00", {}, 409, "jump_needs_confirmation"),
        (a, "700000.001", {}, 422, "invalid_amount"),
        (a, 700000, {}, 422, "invalid_amount"),
    ]
    for headers, amount, extra, status, code in cases:
        response = await bid(client, aid, headers, amount, **extra)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), amount
    assert (await client.get(f"/auctions/{aid}")).json()["bid_count"] == 0
    ok = await bid(client, aid, a, "700000.00")
    assert ok.status_code == 201, ok.text
    assert ok.json()["seq"] == 1
    same = await bid(client, aid, b, "700000.00")
    assert same.json()["error"]["code"] == "bid_too_low"
    assert same.json()["error"]["details"]["minimum_bid"] == 710000 * 100
    jump = await bid(client, aid, b, "900000.00", confirm_jump=True)
    assert jump.status_code == 201
    state = (await client.get(f"/auctions/{aid}")).json()
    assert (state["current_price"], state["bid_count"]) == ("900000.00", 2)
    assert [x["seq"] for x in state["bids"]] == [1, 2]
    assert all(x["bidder"].startswith("竞买号 ") for x in state["bids"])
    assert "甲" not in str(state) and "乙" not in str(state)


async def test_barred_bidders(client, officer, admin, frozen_clock):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    bidder_id, headers, _ = await new_bidder(client)
    registered = await client.post(f"/auctions/{aid}/registrations", headers=headers)
    assert registered.status_code == 201
    barred = await client.post(
        f"/bidders/{bidder_id}/bar", json={"reason": "court staff"}, headers=admin
    )
    assert barred.status_code == 200
    await _open(frozen_clock, auction)
    response = await bid(client, aid, headers, "700000.00")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "bidder_barred")
    staff_id, staff, _ = await new_bidder(client, "员工")
    await client.post(f"/bidders/{staff_id}/bar", json={"reason": "platform staff"}, headers=admin)
    response = await client.post(f"/auctions/{aid}/registrations", headers=staff)
    assert response.json()["error"]["code"] == "bidder_barred"
    response = await bid(client, aid, staff, "700000.00")
    assert response.json()["error"]["code"] == "bidder_barred"


async def test_closed_and_cancelled(client, officer, frozen_clock):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid)
    frozen_clock.set(dt.datetime.fromisoformat(auction["ends_at"]))
    late = await bid(client, aid, a, "700000.00")
    assert late.json()["error"]["code"] == "auction_closed"
    other = await new_auction(client, officer)
    b = await registered_bidder(client, other["id"])
    cancelled = await client.post(
        f"/auctions/{other['id']}/cancel", json={"reason": "settled"}, headers=officer
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    response = await bid(client, other["id"], b, "700000.00")
    assert response.json()["error"]["code"] == "auction_cancelled"
    again = await client.post(
        f"/auctions/{other['id']}/cancel", json={"reason": "x"}, headers=officer
    )
    assert again.json()["error"]["code"] == "auction_wrong_state"
    missing = await bid(client, 987654, b, "700000.00")
    assert missing.status_code in (404, 409)


async def test_duplicate_idempotency_key_is_replayed_not_rebid(client, officer, frozen_clock):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid)
    await _open(frozen_clock, auction)
    headers = {**a, "Idempotency-Key": "bid-1"}
    first = await bid(client, aid, headers, "700000.00")
    second = await bid(client, aid, headers, "700000.00")
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replay") == "true"
    assert first.json() == second.json()
    reused = await bid(client, aid, headers, "710000.00")
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert (await client.get(f"/auctions/{aid}")).json()["bid_count"] == 1


async def test_priority_holder_matches_and_leads(client, officer, frozen_clock):
    from tests.factories import person_id

    holder_id = person_id()
    holder2_id = person_id()
    auction = await new_auction(
        client,
        officer,
        priority_holders=[
            {"name": "共有人", "id_number": holder_id, "rank": 1},
            {"name": "承租人", "id_number": holder2_id, "rank": 2},
        ],
    )
    aid = auction["id"]
    assert auction["priority_holders"] == 2
    ordinary = await registered_bidder(client, aid, "普通")
    holder = await registered_bidder(client, aid, "共有人", holder_id)
    tenant = await registered_bidder(client, aid, "承租人", holder2_id)
    await _open(frozen_clock, auction)
    assert (await bid(client, aid, ordinary, "700000.00")).status_code == 201
    assert (await bid(client, aid, tenant, "700000.00")).status_code == 201  # rank 2 matches
    assert (await bid(client, aid, holder, "700000.00")).status_code == 201  # rank 1 beats 2
    again = await bid(client, aid, tenant, "700000.00")
    assert again.json()["error"]["code"] == "bid_too_low"
    state = (await client.get(f"/auctions/{aid}")).json()
    assert [b["priority"] for b in state["bids"]] == [False, True, True]
    assert state["current_price"] == "700000.00"


async def test_late_joiner_registers_during_extension(client, officer, frozen_clock):
    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid)
    ends = dt.datetime.fromisoformat(auction["ends_at"])
    frozen_clock.set(ends - dt.timedelta(minutes=1))
    placed = await bid(client, aid, a, "700000.00")
    assert dt.datetime.fromisoformat(placed.json()["ends_at"]) == ends + dt.timedelta(minutes=4)
    frozen_clock.set(ends + dt.timedelta(minutes=2))  # past the original end, inside extension
    late = await registered_bidder(client, aid, "后来者")
    assert (await bid(client, aid, late, "710000.00")).status_code == 201
