"""First end-to-end checks of the case API."""

from __future__ import annotations

from tests.factories import case_payload, create_case


async def test_create_and_read_case(client, officer):
    case = await create_case(client, officer, principal="1000000.00")
    assert case["fee"] == "12400.00"
    assert case["outstanding"] == "1000000.00"
    assert case["status"] == "open"
    assert case["deadline"] == "2026-09-02"
    again = await client.get(f"/cases/{case['id']}", headers=officer)
    assert again.status_code == 200
    assert again.json()["case_number"] == case["case_number"]


async def test_pay_off_case(client, officer):
    case = await create_case(client, officer, principal="100.00")
    r = await client.post(
        f"/cases/{case['id']}/payments", json={"amount": "100.00"}, headers=officer
    )
    assert r.status_code == 201, r.text
    after = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    assert after["status"] == "satisfied"


async def test_bad_id_number(client, officer):
    payload = case_payload()
    payload["respondents"][0]["id_number"] = "110101199003074478"
    r = await client.post("/cases", json=payload, headers=officer)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_id_number"
