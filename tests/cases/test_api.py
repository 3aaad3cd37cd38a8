"""The case API through HTTP: creation, reading, payments, closing, bad input, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from enforcement.cases.models import Case, Party, Payment
from enforcement.core.models import AuditRecord
from tests.factories import case_payload, create_case, organization, person


async def _count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def test_create_case_computes_fee_and_deadline(client, officer):
    case = await create_case(client, officer, principal="1000000.00", filed_on="2026-03-02")
    assert case["fee"] == "12400.00"
    assert case["outstanding"] == "1000000.00"
    assert case["fee_outstanding"] == "12400.00"
    assert case["deadline"] == "2026-09-02"
    assert case["status"] == "open"
    assert case["court_code"] == "甘0602"
    assert case["respondents"][0]["id"] > 0
    assert case["respondents"][0]["birth_date"] == "1980-05-17"  # read from the ID number
    read = await client.get(f"/cases/{case['id']}", headers=officer)
    assert read.json() == case


async def test_half_width_case_number_is_stored_normalised(client, officer):
    case = await create_case(client, officer, case_number="(2026)甘0602执77号")
    assert case["case_number"] == "（2026）甘0602执77号"


async def test_organization_respondent(client, officer):
    org = organization("武威某某商贸有限公司")
    case = await create_case(client, officer, respondents=[org, person("王五")])
    assert [r["kind"] for r in case["respondents"]] == ["organization", "person"]
    assert case["respondents"][0]["legal_representative"] == "李四"


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (
            lambda p: p["respondents"][0].update(id_number="110101199003074478"),
            422,
            "invalid_id_number",
        ),
        (
            lambda p: p["respondents"][0].update(id_number="110101199002304471"),
            422,
            "invalid_id_number",
        ),
        (
            lambda p: p["applicant"].update(credit_code="91350200776049653B"),
            422,
            "invalid_credit_code",
        ),
        (lambda p: p.update(case_number="（2026）甘0602民初1号"), 422, "invalid_case_number"),
        (lambda p: p.update(principal="-5.00"), 422, "invalid_amount"),
        (lambda p: p.update(principal="5.001"), 422, "invalid_amount"),
        (lambda p: p.update(principal=5.5), 422, "invalid_amount"),
        (lambda p: p.update(surprise="field"), 422, "unknown_field"),
        (lambda p: p.pop("basis"), 422, "missing_field"),
        (lambda p: p.update(respondents=[]), 422, "invalid_input"),
        (lambda p: p["respondents"][0].pop("id_number"), 422, "missing_identifier"),
        (lambda p: p["respondents"][0].update(birth_date="1999-01-01"), 422, "birth_date_mismatch"),
        (lambda p: p.update(case_number="（2026）甘0603执1号"), 403, "case_number_court_mismatch"),
    ],
)
async def test_bad_case_input_changes_nothing(client, officer, session, mutate, status, code):
    payload = case_payload()
    mutate(payload)
    response = await client.post("/cases", json=payload, headers=officer)
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code
    assert body["message"]
    assert await _count(session, Case) == 0
    assert await _count(session, Party) == 0


async def test_duplicate_case_number_is_409(client, officer, session):
    payload = case_payload()
    assert (await client.post("/cases", json=payload, headers=officer)).status_code == 201
    again = case_payload(case_number=payload["case_number"].replace("（", "(").replace("）", ")"))
    response = await client.post("/cases", json=again, headers=officer)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_case_number"
    assert await _count(session, Case) == 1


async def test_idempotency_key_replays_create(client, officer, session):
    payload = case_payload()
    headers = {**officer, "Idempotency-Key": "create-1"}
    first = await client.post("/cases", json=payload, headers=headers)
    second = await client.post("/cases", json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replay") == "true"
    assert await _count(session, Case) == 1
    reused = await client.post("/cases", json=case_payload(), headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_payments_reduce_outstanding_then_satisfy(client, officer, session):
    case = await create_case(client, officer, principal="1000.00")
    fee = case["fee"]
    assert fee == "50.00"
    pay = f"/cases/{case['id']}/payments"
    r1 = await client.post(pay, json={"amount": "400.00"}, headers=officer)
    assert r1.status_code == 201
    assert r1.json()["to_principal"] == "400.00"
    mid = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    assert mid["outstanding"] == "600.00"
    assert mid["status"] == "open"
    too_much = await client.post(pay, json={"amount": "650.01"}, headers=officer)
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "payment_exceeds_outstanding"
    r2 = await client.post(pay, json={"amount": "600.00"}, headers=officer)
    assert r2.status_code == 201
    done = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    assert done["outstanding"] == "0.00"
    assert done["status"] == "satisfied"
    assert done["close_mode"] == "satisfied"
    closed = await client.post(pay, json={"amount": "1.00"}, headers=officer)
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "case_closed"
    assert await _count(session, Payment) == 2
    listed = (await client.get(pay, headers=officer)).json()
    assert [p["amount"] for p in listed] == ["400.00", "600.00"]


async def test_payment_idempotency_does_not_pay_twice(client, officer):
    case = await create_case(client, officer, principal="1000.00")
    headers = {**officer, "Idempotency-Key": "pay-7"}
    for _ in range(3):
        r = await client.post(
            f"/cases/{case['id']}/payments", json={"amount": "100.00"}, headers=headers
        )
        assert r.status_code == 201
    read = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    assert read["outstanding"] == "900.00"


async def test_other_court_cannot_see_or_pay(client, officer, make_token):
    case = await create_case(client, officer)
    other = await make_token("officer", court="甘0603")
    assert (await client.get(f"/cases/{case['id']}", headers=other)).status_code == 403
    r = await client.post(f"/cases/{case['id']}/payments", json={"amount": "1.00"}, headers=other)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "wrong_court"
    assert (await client.get("/cases", headers=other)).json()["items"] == []


async def test_judge_reads_but_cannot_pay(client, officer, make_token):
    case = await create_case(client, officer)
    judge = await make_token("judge", court="甘0602")
    assert (await client.get(f"/cases/{case['id']}", headers=judge)).status_code == 200
    r = await client.post(f"/cases/{case['id']}/payments", json={"amount": "1.00"}, headers=judge)
    assert r.status_code == 403


async def test_missing_case_is_404(client, officer):
    r = await client.get("/cases/999999", headers=officer)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "case_not_found"


async def test_close_modes(client, officer, frozen_clock):
    case = await create_case(client, officer, filed_on="2026-03-02")
    close = f"/cases/{case['id']}/close"
    early = await client.post(
        close, json={"mode": "terminated_this_round", "reason": "无财产"}, headers=officer
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "termination_too_early"
    unpaid = await client.post(close, json={"mode": "satisfied", "reason": "x"}, headers=officer)
    assert unpaid.json()["error"]["code"] == "case_not_satisfied"
    no_reason = await client.post(close, json={"mode": "terminated"}, headers=officer)
    assert no_reason.status_code == 422
    frozen_clock.advance(dt.timedelta(days=100))
    ok = await client.post(
        close, json={"mode": "terminated_this_round", "reason": "无财产可供执行"}, headers=officer
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "terminated_this_round"
    again = await client.post(close, json={"mode": "terminated", "reason": "x"}, headers=officer)
    assert again.status_code == 409


async def test_list_filters_and_cursor_pagination(client, officer, frozen_clock):
    ids = [(await create_case(client, officer, filed_on="2025-06-02"))["id"] for _ in range(5)]
    ids.append((await create_case(client, officer, filed_on="2026-03-02"))["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/cases", params=params, headers=officer)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    overdue = (await client.get("/cases", params={"overdue": "true"}, headers=officer)).json()
    assert sorted(c["id"] for c in overdue["items"]) == sorted(ids[:5])
    assert all(c["overdue"] for c in overdue["items"])
    bad = await client.get("/cases", params={"cursor": "%%%garbage"}, headers=officer)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_search_by_name_and_id(client, officer):
    target = person("欧阳娜娜")
    case = await create_case(client, officer, respondents=[target])
    await create_case(client, officer)
    by_name = (await client.get("/cases", params={"q": "欧阳"}, headers=officer)).json()
    assert [c["id"] for c in by_name["items"]] == [case["id"]]
    by_id = (await client.get("/cases", params={"q": target["id_number"]}, headers=officer)).json()
    assert [c["id"] for c in by_id["items"]] == [case["id"]]


async def test_stats(client, officer, frozen_clock):
    a = await create_case(client, officer, principal="100.00", filed_on="2026-01-05")
    await create_case(client, officer, principal="100.00", filed_on="2026-02-05")
    await create_case(client, officer, principal="100.00", filed_on="2025-05-05")
    await client.post(f"/cases/{a['id']}/payments", json={"amount": "100.00"}, headers=officer)
    stats = (
        await client.get(
            "/stats", params={"from": "2026-01-01", "to": "2026-12-31"}, headers=officer
        )
    ).json()
    assert stats["received"] == 2
    assert stats["closed"] == 1
    assert stats["closure_rate"] == 0.5
    assert stats["closed_within_limit"] == 1
    assert stats["within_limit_rate"] == 1.0
    assert stats["open"] == 2
    assert stats["overdue"] == 1
    assert stats["recovered"] == "100.00"
    bad = await client.get(
        "/stats", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=officer
    )
    assert bad.status_code == 422


async def test_every_change_is_audited(client, officer, session):
    case = await create_case(client, officer, principal="100.00")
    await client.post(f"/cases/{case['id']}/payments", json={"amount": "100.00"}, headers=officer)
    rows = (await session.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars().all()
    actions = [r.action for r in rows if r.entity_type == "case"]
    assert actions == ["case.created", "case.payment_recorded"]
    payment = [r for r in rows if r.action == "case.payment_recorded"][0]
    assert payment.before["status"] == "open"
    assert payment.after["status"] == "satisfied"
    assert payment.actor.startswith("officer:")
