"""Inquiries through the HTTP API against the mock registries (in-process and real HTTP)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from enforcement.assets.models import Asset
from enforcement.core import db

from .helpers import case_for, expected_assets, poor_person, rich_person


async def _inquire(client, headers, case_id, **body):
    response = await client.post(f"/cases/{case_id}/inquiries", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def test_inquiry_finds_every_registrys_assets(client, officer, connectors, drain):
    owner = rich_person()
    case = await case_for(client, officer, owner)
    accepted = await _inquire(client, officer, case["id"], purpose="财产调查")
    assert accepted["status"] == "pending"

    await drain()

    inquiry = (await client.get(f"/inquiries/{accepted['id']}", headers=officer)).json()
    assert inquiry["status"] == "done"
    assert inquiry["purpose"] == "财产调查"
    assert inquiry["operator"].startswith("officer:")
    assert {r["registry"] for r in inquiry["registries"]} == {
        "bank", "vehicle", "securities", "business",
    }  # fmt: skip
    assert all(r["status"] == "done" and r["error"] is None for r in inquiry["registries"])
    assets = (await client.get(f"/cases/{case['id']}/assets", headers=officer)).json()["items"]
    assert len(assets) == expected_assets(owner)
    assert sum(r["assets_found"] for r in inquiry["registries"]) == len(assets)
    vehicle = next(a for a in assets if a["kind"] == "vehicle")
    assert vehicle["identifiers"]["vin"] in vehicle["description"]
    assert vehicle["freeze"] is None
    assert isinstance(vehicle["value"], str)


async def test_a_person_with_nothing_gives_a_done_inquiry_and_no_assets(
    client, officer, connectors, drain
):
    case = await case_for(client, officer, poor_person())
    accepted = await _inquire(client, officer, case["id"])
    await drain()
    inquiry = (await client.get(f"/inquiries/{accepted['id']}", headers=officer)).json()
    assert inquiry["status"] == "done"
    assert (await client.get(f"/cases/{case['id']}/assets", headers=officer)).json()["items"] == []


async def test_requery_updates_values_and_marks_what_disappeared(
    client, officer, connectors, drain
):
    owner = rich_person()
    case = await case_for(client, officer, owner)
    await _inquire(client, officer, case["id"])
    await drain()
    async with db.unit_of_work() as s:
        first = (await s.execute(select(Asset).where(Asset.case_id == case["id"]))).scalars().all()
        vehicle = next(a for a in first if a.kind == "vehicle")
        await s.execute(update(Asset).where(Asset.id == vehicle.id).values(value=1))
        phantom = Asset(
            case_id=case["id"], party_id=vehicle.party_id, registry_name="vehicle",
            kind="vehicle", registry_ref=f"{owner}:LSVPHANTOM", description="gone car",
            value=100, currency="CNY", holder="王五", raw={}, status="present",
            first_seen_at=vehicle.first_seen_at, last_seen_at=vehicle.last_seen_at,
        )  # fmt: skip
        s.add(phantom)
    accepted = await _inquire(client, officer, case["id"])
    await drain()

    inquiry = (await client.get(f"/inquiries/{accepted['id']}", headers=officer)).json()
    assert inquiry["status"] == "done"
    assets = (await client.get(f"/cases/{case['id']}/assets", headers=officer)).json()["items"]
    by_id = {a["id"]: a for a in assets}
    assert len(assets) == expected_assets(owner) + 1, "deduplicated by registry identifiers"
    assert by_id[phantom.id]["status"] == "gone"
    assert by_id[vehicle.id]["value"] != "0.01"
    assert by_id[vehicle.id]["status"] == "present"


async def test_failing_registry_leaves_the_inquiry_partial_and_the_others_done(
    client, officer, install, drain
):
    install(per_registry={"vehicle": {"headers": {"X-Mock-Fault": "error"}}})
    owner = rich_person()
    case = await case_for(client, officer, owner)
    accepted = await _inquire(client, officer, case["id"])
    await drain()

    inquiry = (await client.get(f"/inquiries/{accepted['id']}", headers=officer)).json()
    assert inquiry["status"] == "partial"
    by_registry = {r["registry"]: r for r in inquiry["registries"]}
    assert by_registry["vehicle"]["status"] == "failed"
    assert "500" in by_registry["vehicle"]["error"] or "circuit" in by_registry["vehicle"]["error"]
    assert all(by_registry[n]["status"] == "done" for n in ("bank", "securities", "business"))
    kinds = {
        a["kind"]
        for a in (await client.get(f"/cases/{case['id']}/assets", headers=officer)).json()["items"]
    }
    assert "vehicle" not in kinds
    assert "deposit" in kinds


async def test_garbage_is_recorded_at_once_and_a_transient_fault_recovers(
    client, officer, install, drain, request_counts
):
    install(
        per_registry={
            "business": {"headers": {"X-Mock-Fault": "garbage"}},
            # fails 6 times: more than the connector's retries, fewer than the job's
            "vehicle": {
                "headers": {"X-Mock-Fault": "unavailable", "X-Mock-Fault-Times": "6"},
                "breaker_failure_threshold": 100,
            },
        }
    )
    case = await case_for(client, officer, rich_person())
    accepted = await _inquire(client, officer, case["id"])
    await drain()
    inquiry = (await client.get(f"/inquiries/{accepted['id']}", headers=officer)).json()
    by_registry = {r["registry"]: r for r in inquiry["registries"]}
    assert by_registry["business"]["status"] == "failed"
    assert "unreadable" in by_registry["business"]["error"]
    assert by_registry["vehicle"]["status"] == "done", by_registry["vehicle"]
    assert by_registry["vehicle"]["assets_found"] >= 1
    assert inquiry["status"] == "partial"


async def test_inquiry_over_real_http(client, officer, install, live, drain):
    install(live.url)
    owner = rich_person()
    case = await case_for(client, officer, owner)
    accepted = await _inquire(client, officer, case["id"])
    await drain()
    inquiry = (await client.get(f"/inquiries/{accepted['id']}", headers=officer)).json()
    assert inquiry["status"] == "done", inquiry
    assets = (await client.get(f"/cases/{case['id']}/assets", headers=officer)).json()["items"]
    assert len(assets) == expected_assets(owner)


async def test_bank_is_polled_by_re_enqueued_jobs(client, officer, connectors, drain, runner):
    case = await case_for(client, officer, rich_person())
    await _inquire(client, officer, case["id"], registries=["bank"])
    ran = await runner.run_due()
    assert ran == 1
    assert runner._queue, "the bank poll waits in the queue, not in a worker slot"
    assert runner._queue[0].item.name == "assets.poll_inquiry_task"
    await drain()
    assets = (await client.get(f"/cases/{case['id']}/assets", headers=officer)).json()["items"]
    assert {a["kind"] for a in assets} == {"deposit"}


async def test_only_the_cases_court_and_open_cases_may_be_queried(
    client, officer, make_token, connectors
):
    case = await case_for(client, officer, rich_person())
    other = await make_token("officer", court="甘0102")
    response = await client.post(f"/cases/{case['id']}/inquiries", json={}, headers=other)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_court"
    judge = await make_token("judge", court="甘0602")
    response = await client.post(f"/cases/{case['id']}/inquiries", json={}, headers=judge)
    assert response.status_code == 403
    closed = await case_for(client, officer, rich_person(), filed_on="2025-01-02")
    await client.post(
        f"/cases/{closed['id']}/close",
        json={"mode": "terminated", "reason": "x"},
        headers=officer,
    )
    response = await client.post(f"/cases/{closed['id']}/inquiries", json={}, headers=officer)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "case_not_open"
    response = await client.post(
        f"/cases/{case['id']}/inquiries", json={"registries": ["land"]}, headers=officer
    )
    assert response.json()["error"]["code"] == "registry_not_enabled"
    assert (await client.get("/inquiries/999999", headers=officer)).status_code == 404


async def test_repeated_post_with_idempotency_key_starts_one_inquiry(
    client, officer, connectors, runner
):
    case = await case_for(client, officer, rich_person())
    headers = {**officer, "Idempotency-Key": "inq-1"}
    first = await client.post(f"/cases/{case['id']}/inquiries", json={}, headers=headers)
    second = await client.post(f"/cases/{case['id']}/inquiries", json={}, headers=headers)
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replay") == "true"
    assert len(runner._queue) == 4


async def test_every_query_is_audited_with_purpose_and_operator(
    client, officer, admin, connectors, drain
):
    case = await case_for(client, officer, rich_person())
    accepted = await _inquire(client, officer, case["id"], purpose="查询存款")
    from enforcement.core.models import AuditRecord

    async with db.unit_of_work() as s:
        record = (
            await s.execute(select(AuditRecord).where(AuditRecord.action == "inquiry.started"))
        ).scalar_one()
    assert record.entity_id == str(accepted["id"])
    assert record.after["purpose"] == "查询存款"
    assert record.after["operator"].startswith("officer:")
    assert "*" in record.after["subjects"][0]
    assert dt.date  # keep import used


async def test_a_cases_inquiries_are_listed_newest_first_for_its_court(
    client, officer, make_token, connectors, drain
):
    case = await case_for(client, officer, rich_person())
    first = await _inquire(client, officer, case["id"], purpose="第一次")
    await drain()
    second = await _inquire(client, officer, case["id"], registries=["vehicle"])
    other_case = await case_for(client, officer, poor_person())
    await _inquire(client, officer, other_case["id"])

    listed = (await client.get(f"/cases/{case['id']}/inquiries", headers=officer)).json()
    assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]
    assert listed["next_cursor"] is None
    newest, oldest = listed["items"]
    assert newest["status"] == "pending"
    assert [r["registry"] for r in newest["registries"]] == ["vehicle"]
    assert (oldest["status"], oldest["purpose"]) == ("done", "第一次")
    assert oldest == (await client.get(f"/inquiries/{first['id']}", headers=officer)).json()

    page = (await client.get(f"/cases/{case['id']}/inquiries?limit=1", headers=officer)).json()
    assert [i["id"] for i in page["items"]] == [second["id"]]
    rest = await client.get(
        f"/cases/{case['id']}/inquiries?limit=1&cursor={page['next_cursor']}", headers=officer
    )
    assert [i["id"] for i in rest.json()["items"]] == [first["id"]]

    other_court = await make_token("officer", court="甘0102")
    denied = await client.get(f"/cases/{case['id']}/inquiries", headers=other_court)
    assert denied.status_code == 403
    assert (await client.get(f"/cases/{case['id']}/inquiries")).status_code == 401
    assert (await client.get("/cases/999999/inquiries", headers=officer)).status_code == 404
