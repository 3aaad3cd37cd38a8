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


# --- renewal at the registry, queued freezes taking effect, over-seizure (issue 3) ---

SERVICE_TODAY = "enforcement.core.clock:today"


def _registry_freeze(mock_app: Starlette, registry: str, reference: str):
    return state_of(mock_app).books[registry].freezes[reference]


async def _audit_actions(entity_id: int) -> list[str]:
    from sqlalchemy import select

    from enforcement.core.models import AuditRecord

    async with db.unit_of_work() as s:
        rows = await s.execute(
            select(AuditRecord.action)
            .where(AuditRecord.entity_type == "freeze", AuditRecord.entity_id == str(entity_id))
            .order_by(AuditRecord.seq)
        )
        return list(rows.scalars())


async def _maintenance(drain) -> None:
    """The daily freeze-maintenance job, then whatever it enqueued."""
    async with db.unit_of_work() as s:
        await service.check_expiries(s)
    await drain()


async def test_renewal_extends_the_registry_freeze_once(
    client, officer, install, drain, frozen_clock, mock_app: Starlette
):
    connectors = install(mock_today_from=SERVICE_TODAY)
    _, assets = await _case_with_assets(client, officer, drain)
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    freeze = (await client.post(f"/assets/{vehicle['id']}/freeze", headers=officer)).json()
    ref = freeze["registry_reference"]
    assert _registry_freeze(mock_app, "vehicle", ref).until == dt.date(2028, 3, 2)

    frozen_clock.set(dt.datetime(2028, 3, 2, 9, tzinfo=clock.SHANGHAI))  # the last day
    too_long = await client.post(
        f"/freezes/{freeze['id']}/renew", json={"until": "2030-03-03"}, headers=officer
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "renewal_invalid"
    assert _registry_freeze(mock_app, "vehicle", ref).renewals == 0
    headers = {**officer, "Idempotency-Key": "renew-1"}
    first = await client.post(f"/freezes/{freeze['id']}/renew", json={}, headers=headers)
    second = await client.post(f"/freezes/{freeze['id']}/renew", json={}, headers=headers)
    assert first.status_code == second.status_code == 200, first.text
    assert first.json() == second.json()
    assert (first.json()["expires_on"], first.json()["renewals"]) == ("2030-03-02", 1)
    held = _registry_freeze(mock_app, "vehicle", ref)
    assert (held.until, held.renewals) == (dt.date(2030, 3, 2), 1)
    assert (await _audit_actions(freeze["id"]))[-1] == "freeze.renewed"

    frozen_clock.set(dt.datetime(2029, 6, 1, 9, tzinfo=clock.SHANGHAI))
    status = await connectors["vehicle"].freeze_status(ref)
    assert status.status == "active", "renewed at the registry, not only here"
    await _maintenance(drain)
    assert (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()[
        "status"
    ] == "active"


async def test_registry_and_service_expire_an_unrenewed_freeze_on_the_same_day(
    client, officer, install, drain, frozen_clock
):
    connectors = install(mock_today_from=SERVICE_TODAY)
    _, assets = await _case_with_assets(client, officer, drain)
    freeze = (await client.post(f"/assets/{_deposit(assets)['id']}/freeze", headers=officer)).json()
    ref = freeze["registry_reference"]

    frozen_clock.set(dt.datetime(2027, 3, 2, 23, tzinfo=clock.SHANGHAI))
    assert (await connectors["bank"].freeze_status(ref)).status == "active"
    frozen_clock.set(dt.datetime(2027, 3, 3, 1, 30, tzinfo=clock.SHANGHAI))
    assert (await connectors["bank"].freeze_status(ref)).status == "expired"
    await _maintenance(drain)
    read = (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()
    assert read["status"] == "expired"
    late = await client.post(f"/freezes/{freeze['id']}/renew", json={}, headers=officer)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "freeze_expired")


async def test_queued_freeze_takes_effect_when_the_earlier_one_lapses(
    client, officer, install, drain, frozen_clock
):
    install(mock_today_from=SERVICE_TODAY)
    owner = data.find_identifier(lambda a: any(v.encumbered_by for v in a.stakes))
    _, assets = await _case_with_assets(client, officer, drain, owner=owner)
    stake_id = next(s.stake_id for s in data.assets_for(owner).stakes if s.encumbered_by)
    stake = next(a for a in assets if a["registry_ref"].endswith(stake_id))
    freeze = (await client.post(f"/assets/{stake['id']}/freeze", headers=officer)).json()
    assert (freeze["status"], freeze["expires_on"]) == ("queued", "2029-03-02")

    frozen_clock.set(dt.datetime(2026, 9, 1, 1, 30, tzinfo=clock.SHANGHAI))
    await _maintenance(drain)  # the other court's freeze still holds
    assert (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()[
        "status"
    ] == "queued"

    frozen_clock.set(dt.datetime(2027, 3, 3, 1, 30, tzinfo=clock.SHANGHAI))  # it lapsed
    await _maintenance(drain)
    read = (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()
    assert read["status"] == "active"
    assert read["frozen"] == stake["value"]
    assert read["expires_on"] == "2029-03-02", "the registry's expiry"
    assert "freeze.activated" in await _audit_actions(freeze["id"])
    async with db.unit_of_work() as s:
        assert (await service.asset_for_sale(s, stake["id"])).freeze_id == freeze["id"]


async def test_paying_off_the_case_releases_its_freezes(
    client, officer, connectors, drain, mock_app: Starlette
):
    case, assets = await _case_with_assets(client, officer, drain, principal="5000000.00")
    deposit = _deposit(assets)
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    held = [
        (await client.post(f"/assets/{a['id']}/freeze", json={}, headers=officer)).json()
        for a in (deposit, vehicle)
    ]
    assert [f["status"] for f in held] == ["active", "active"]
    paid = await client.post(
        f"/cases/{case['id']}/payments",
        json={"amount": case["outstanding"], "source": "debtor"},
        headers=officer,
    )
    assert paid.status_code == 201, paid.text
    await drain()
    for freeze, registry in zip(held, ("bank", "vehicle"), strict=True):
        read = (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()
        assert read["status"] == "released"
        assert read["reason"].startswith("case satisfied")
        reference = freeze["registry_reference"]
        assert _registry_freeze(mock_app, registry, reference).state == "released"
        assert (await _audit_actions(freeze["id"]))[-1] == "freeze.released"


async def test_closing_releases_freezes_but_terminating_this_round_keeps_them(
    client, officer, connectors, drain, frozen_clock
):
    kept_case, kept_assets = await _case_with_assets(client, officer, drain)
    kept = (
        await client.post(f"/assets/{_deposit(kept_assets)['id']}/freeze", headers=officer)
    ).json()
    closed_case, closed_assets = await _case_with_assets(client, officer, drain)
    closed = (
        await client.post(f"/assets/{_deposit(closed_assets)['id']}/freeze", headers=officer)
    ).json()
    frozen_clock.advance(days=120)
    for case_id, mode in (
        (kept_case["id"], "terminated_this_round"),
        (closed_case["id"], "terminated"),
    ):
        response = await client.post(
            f"/cases/{case_id}/close", json={"mode": mode, "reason": "测试"}, headers=officer
        )
        assert response.status_code == 200, response.text
    await drain()
    assert (await client.get(f"/freezes/{kept['id']}", headers=officer)).json()[
        "status"
    ] == "active"
    assert (await client.get(f"/freezes/{closed['id']}", headers=officer)).json()[
        "status"
    ] == "released"


async def test_release_job_retries_while_the_registry_is_down(
    client, officer, install, drain, mock_app: Starlette, runner
):
    install()
    case, assets = await _case_with_assets(client, officer, drain, principal="1000.00")
    freeze = (await client.post(f"/assets/{_deposit(assets)['id']}/freeze", headers=officer)).json()
    install(per_registry={"bank": {"headers": {"X-Mock-Fault": "outage"}, "max_retries": 0}})
    await client.post(
        f"/cases/{case['id']}/payments",
        json={"amount": case["outstanding"], "source": "debtor"},
        headers=officer,
    )
    await runner.run_due()
    assert (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()[
        "status"
    ] == "active"
    install()  # the bank is back
    await drain()
    assert (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()[
        "status"
    ] == "released"
    book = state_of(mock_app).books["bank"]
    assert book.freezes[freeze["registry_reference"]].state == "released"


async def test_a_payment_that_leaves_a_deposit_over_seized_releases_the_excess(
    client, officer, connectors, drain, mock_app: Starlette
):
    case, assets = await _case_with_assets(client, officer, drain, principal="1000.00")
    owed = float(case["outstanding"]) + float(case["fee"])
    freeze = (await client.post(f"/assets/{_deposit(assets)['id']}/freeze", headers=officer)).json()
    assert float(freeze["frozen"]) == owed
    await client.post(
        f"/cases/{case['id']}/payments", json={"amount": "400.00", "source": "debtor"},
        headers=officer,
    )  # fmt: skip
    await _maintenance(drain)
    read = (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()
    assert read["status"] == "active"
    assert float(read["frozen"]) == pytest.approx(owed - 400)
    held = _registry_freeze(mock_app, "bank", freeze["registry_reference"])
    assert held.frozen == round((owed - 400) * 100)
    assert (await _audit_actions(freeze["id"]))[-1] == "freeze.reduced"
    await _maintenance(drain)  # nothing more to release
    again = (await client.get(f"/freezes/{freeze['id']}", headers=officer)).json()
    assert again["frozen"] == read["frozen"]


async def test_releasing_ours_activates_our_queued_freeze_from_the_registrys_record(
    client, officer, install, drain, frozen_clock
):
    install(mock_today_from=SERVICE_TODAY)
    owner = rich_person()
    _, first_assets = await _case_with_assets(client, officer, drain, owner=owner)
    first_vehicle = next(a for a in first_assets if a["kind"] == "vehicle")
    first = (await client.post(f"/assets/{first_vehicle['id']}/freeze", headers=officer)).json()
    frozen_clock.advance(days=10)
    _, second_assets = await _case_with_assets(client, officer, drain, owner=owner)
    vehicle = next(a for a in second_assets if a["registry_ref"] == first_vehicle["registry_ref"])
    second = (await client.post(f"/assets/{vehicle['id']}/freeze", headers=officer)).json()
    assert (second["status"], second["expires_on"]) == ("queued", "2028-03-12")

    await client.post(f"/freezes/{first['id']}/release", json={}, headers=officer)
    read = (await client.get(f"/freezes/{second['id']}", headers=officer)).json()
    assert (read["status"], read["frozen"]) == ("active", vehicle["value"])
    assert read["expires_on"] == "2028-03-12"
    assert read["reason"].startswith("took effect"), "from the registry's own record"
    assert (await _audit_actions(second["id"]))[-1] == "freeze.activated"
