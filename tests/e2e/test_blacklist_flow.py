"""A whole lists workflow: an officer lists debtors, a credit system mirrors the lists
(export, then feed and webhooks), the debt is paid and everyone sees the debtors leave."""

from __future__ import annotations

import json

from tests.blacklist.conftest import list_party, read_feed
from tests.blacklist.receiver import Receiver
from tests.factories import create_case, organization, person, person_id


async def test_list_mirror_pay_off_and_clear(client, officer, make_token, runner):
    credit = await make_token("credit", name="bureau")
    rep_id = person_id()
    case = await create_case(
        client,
        officer,
        respondents=[person("王伟"), organization(legal_representative_id_number=rep_id)],
    )
    await list_party(client, officer, case, index=0, grounds=["false_property_report"])
    await list_party(client, officer, case, index=1, kind="restricted")

    export = await client.get("/export", headers=credit)
    mirror = {r["id"]: r for r in map(json.loads, export.text.splitlines())}
    cursor = int(export.headers["X-Feed-Seq"])
    assert len(mirror) == 3 and cursor == 3

    receiver = Receiver()
    await receiver.start()
    try:
        hook = await client.post("/webhooks", json={"url": receiver.url}, headers=credit)
        receiver.secret = hook.json()["secret"]
        screened = await client.post("/screen", json={"id_number": rep_id}, headers=credit)
        assert screened.json()["restricted"] is True

        paid = await client.post(
            f"/cases/{case['id']}/payments", json={"amount": "100000.00"}, headers=officer
        )
        assert paid.status_code == 201
        await runner.run_due()

        for event in await read_feed(client, credit, after=cursor):
            assert event["type"] == "removed" and event["reason"] == "performed"
            mirror.pop(event["listing"]["id"])
        assert mirror == {}
        assert receiver.ids == ["msg_4", "msg_5", "msg_6"]
        cleared = await client.post("/screen", json={"id_number": rep_id}, headers=credit)
        assert cleared.json()["restricted"] is False
        public = await client.get("/listings", params={"q": "王伟"})
        assert public.json()["items"] == []
    finally:
        await receiver.stop()
