"""Freezes through the API: cap, legal periods (by moving the clock), renew, release, deduct,
idempotency, and the auction's ``asset_for_sale``/``complete_sale``."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.applications import Starlette

from connectors.mock import data
from connectors.mock.server import state_of
from enforcement.assets import service
from enforcement.assets.errors import AssetNotFrozen, AssetNotSaleable
from enforcement.core import clock, db

from .helpers import case_for, rich_person


async def _assets(client, headers, case_id) -> list[dict]:
    return (await client.get(f"/cases/{case_id}/assets", headers=headers)).json()["items"]


async def _case_with_assets(client, officer, drain, owner: str | None = None, **kw) -> tuple:
    owner = owner or rich_person()
    case = await case_for(client, officer, owner, **kw)
    await client.post(f"/cases/{case['id']}/inquiries", json={}, headers=officer)
    await drain()
    return case, await _assets(client, officer, case["id"])


def _deposit(assets: list[dict]) -> dict:
    return max((a for a in assets if a["kind"] == "deposit"), key=lambda a: float(a["value"]))


async def test_deposit_freeze_within_the_cap_for_one_year(client, officer, connectors, drain):
    case, assets = await _case_with_assets(client, officer, drain, principal="1000.00")
    deposit = _deposit(assets)
    response = await client.post(f"/assets/{deposit['id']}/freeze", json={}, headers=officer)
    assert response.status_code == 201, response.text
    freeze = response.json()
    assert freeze["status"] == "active"
    owed = float(case["outstanding"]) + float(case["fee"])
    assert float(freeze["requested"]) == min(owed, float(deposit["value"]))
    assert freeze["frozen"] == freeze["requested"]
    assert freeze["expires_on"] == "2027-03-02"
    assert freeze["registry_reference"]
    listed = await _assets(client, officer, case["id"])
    assert next(a for a in listed if a["id"] == deposit["id"])["freeze"]["id"] == freeze["id"]
    again = await client.post(f"/assets/{deposit['id']}/freeze", json={}, headers=officer)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_frozen"


async def test_cap_refuses_an_amount_beyond_what_is_owed(client, officer, connectors, drain):
    case, assets = await _case_with_assets(client, officer, drain, principal="1000.00")
    owed = float(case["outstanding"]) + float(case["fee"])
    deposit = _deposit(assets)
    response = await client.post(
        f"/assets/{deposit['id']}/freeze", json={"amount": f"{owed + 0.01:.2f}"}, headers=officer
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "freeze_cap_exceeded"
    ok = await client.post(f"/assets/{deposit['id']}/freeze", json={}, headers=officer)
    assert ok.status_code == 201
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    covered = await client.post(f"/assets/{vehicle['id']}/freeze", json={}, headers=officer)
    assert covered.status_code == 422, "the claim is covered: nothing more may be frozen"
    assert covered.json()["error"]["code"] == "freeze_cap_exceeded"


async def test_vehicle_is_frozen_whole_for_two_years_and_renewed_before_expiry(
    client, officer, connectors, drain, frozen_clock
):
    _, assets = await _case_with_assets(client, officer, drain)
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    freeze = (await client.post(f"/assets/{vehicle['id']}/freeze", headers=officer)).json()
    assert freeze["status"] == "active"
    assert freeze["frozen"] == vehicle["value"]
    assert freeze["expires_on"] == "2028-03-02"

    frozen_clock.set(dt.datetime(2028, 2, 10, 9, tzinfo=clock.SHANGHAI))
    soon = (await client.get("/freezes?expiring_within_days=30", headers=officer)).json()
    assert [f["id"] for f in soon["items"]] == [freeze["id"]]
    renewed = await client.post(f"/freezes/{freeze['id']}/renew", json={}, headers=officer)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["expires_on"] == "2030-03-02"
    assert renewed.json()["renewals"] == 1
    too_long = await client.post(
        f"/freezes/{freeze['id']}/renew", json={"until": "2032-03-03"}, headers=officer
    )
    assert too_long.json()["error"]["code"] == "renewal_invalid"


async def test_unrenewed_freeze_lapses_and_cannot_be_renewed(
    client, officer, connectors, drain, frozen_clock, runner
):
    _, assets = await _case_with_assets(client, officer, drain)
    deposit = _deposit(assets)
    freeze = (await client.post(f"/assets/{deposit['id']}/freeze", headers=officer)).json()

    frozen_clock.set(dt.datetime(2027, 2, 20, 9, tzinfo=clock.SHANGHAI))
    async with db.unit_of_work() as s:
        assert await service.check_expiries(s) == (1, 0)
    async with db.unit_of_work() as s:
        assert await service.check_expiries(s) == (0, 0), "warned once"

    frozen_clock.set(dt.datetime(2027, 3, 3, 0, 30, tzinfo=clock.SHANGHAI))
    async with db.unit_of_work() as s:
        assert await service.check_expiries(s) == (0, 1)
    read = (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()
    assert read["status"] == "expired"
    response = await client.post(f"/freezes/{freeze['id']}/renew", json={}, headers=officer)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "freeze_expired"


async def test_release_then_release_again_is_409(
    client, officer, connectors, drain, mock_app: Starlette
):
    _, assets = await _case_with_assets(client, officer, drain)
    deposit = _deposit(assets)
    freeze = (await client.post(f"/assets/{deposit['id']}/freeze", headers=officer)).json()
    released = await client.post(f"/freezes/{freeze['id']}/release", json={}, headers=officer)
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    book = state_of(mock_app).books["bank"]
    assert book.freezes[freeze["registry_reference"]].state == "released"
    again = await client.post(f"/freezes/{freeze['id']}/release", json={}, headers=officer)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "freeze_released"


async def test_deduct_becomes_a_payment(client, officer, connectors, drain):
    case, assets = await _case_with_assets(client, officer, drain, principal="500.00")
    deposit = _deposit(assets)
    freeze = (await client.post(f"/assets/{deposit['id']}/freeze", headers=officer)).json()
    response = await client.post(
        f"/freezes/{freeze['id']}/deduct", json={"amount": "100.00"}, headers=officer
    )
    assert response.status_code == 200, response.text
    assert response.json()["deducted"] == "100.00"
    payments = (await client.get(f"/cases/{case['id']}/payments", headers=officer)).json()
    assert [(p["amount"], p["source"]) for p in payments] == [("100.00", "deduction")]
    after = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    assert float(after["outstanding"]) + float(after["fee_outstanding"]) == pytest.approx(
        float(case["outstanding"]) + float(case["fee"]) - 100
    )
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    v_freeze = await client.post(f"/assets/{vehicle['id']}/freeze", headers=officer)
    if v_freeze.status_code == 201:
        bad = await client.post(f"/freezes/{v_freeze.json()['id']}/deduct", headers=officer)
        assert bad.json()["error"]["code"] == "not_a_deposit"


async def test_other_courts_officer_gets_403(client, officer, make_token, connectors, drain):
    _, assets = await _case_with_assets(client, officer, drain)
    other = await make_token("officer", court="甘0102")
    response = await client.post(f"/assets/{assets[0]['id']}/freeze", headers=other)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_court"
    assert (
        await client.get(f"/cases/{assets[0]['case_id']}/assets", headers=other)
    ).status_code == 403


async def test_repeated_post_and_lost_response_freeze_once(
    client, officer, install, drain, mock_app: Starlette
):
    install()
    _, assets = await _case_with_assets(client, officer, drain)
    deposit = _deposit(assets)
    install(
        per_registry={"bank": {"headers": {"X-Mock-Drop-After": "1", "X-Mock-Fault-Scope": "d"}}}
    )
    headers = {**officer, "Idempotency-Key": "frz-1"}
    first = await client.post(f"/assets/{deposit['id']}/freeze", json={}, headers=headers)
    second = await client.post(f"/assets/{deposit['id']}/freeze", json={}, headers=headers)
    assert first.status_code == second.status_code == 201, first.text
    assert first.json() == second.json()
    book = state_of(mock_app).books["bank"]
    ours = [f for f in book.freezes.values() if f.court_code == "甘0602"]
    assert len(ours) == 1, "the lost answer was retried with the same key"


async def test_queued_freeze_on_an_encumbered_asset(client, officer, connectors, drain):
    owner = data.find_identifier(lambda a: any(v.encumbered_by for v in a.stakes))
    _, assets = await _case_with_assets(client, officer, drain, owner=owner)
    stake_id = next(s.stake_id for s in data.assets_for(owner).stakes if s.encumbered_by)
    stake = next(a for a in assets if a["registry_ref"].endswith(stake_id))
    freeze = (await client.post(f"/assets/{stake['id']}/freeze", headers=officer)).json()
    assert freeze["status"] == "queued"
    assert freeze["frozen"] == "0.00"
    with pytest.raises(AssetNotFrozen):
        async with db.unit_of_work() as s:
            await service.asset_for_sale(s, stake["id"])


async def test_asset_for_sale_and_complete_sale(client, officer, connectors, drain, mock_app):
    _, assets = await _case_with_assets(client, officer, drain)
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    deposit = _deposit(assets)
    async with db.unit_of_work() as s:
        with pytest.raises(AssetNotFrozen):
            await service.asset_for_sale(s, vehicle["id"])
        with pytest.raises(AssetNotSaleable):
            await service.asset_for_sale(s, deposit["id"])
    freeze = (await client.post(f"/assets/{vehicle['id']}/freeze", headers=officer)).json()
    async with db.unit_of_work() as s:
        sale = await service.asset_for_sale(s, vehicle["id"])
    assert (sale.freeze_id, sale.kind, sale.court_code) == (freeze["id"], "vehicle", "甘0602")
    assert sale.frozen == sale.value > 0
    async with db.unit_of_work() as s:
        await service.complete_sale(s, vehicle["id"], reference="auction:1")
    async with db.unit_of_work() as s:
        await service.complete_sale(s, vehicle["id"], reference="auction:1")  # repeat: no-op
    read = (await client.get(f"/assets/{vehicle['id']}", headers=officer)).json()
    assert read["status"] == "sold"
    assert read["freeze"]["status"] == "released"
    assert (
        state_of(mock_app).books["vehicle"].freezes[freeze["registry_reference"]].state
        == "released"
    )
