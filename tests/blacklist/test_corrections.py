"""Corrections (失信 Art 12: inaccurate → corrected within 3 working days) and the persons an
organization's restriction covers (限消 Art 3): legal representative, principal, the person
directly responsible and the actual controller."""

from __future__ import annotations

from typing import Any

import pytest

from tests.blacklist.conftest import list_party, listed_case, read_feed
from tests.factories import create_case, organization, person_id


async def _patch(client: Any, headers: dict[str, str], listing_id: int, body: dict[str, Any]):
    return await client.patch(f"/listings/{listing_id}", json=body, headers=headers)


async def test_correcting_grounds_bumps_the_version_and_feeds_updated(client, officer, credit):
    _, listing = await listed_case(client, officer)
    response = await _patch(
        client,
        officer,
        listing["id"],
        {"grounds": ["obstructs_enforcement", "evades_enforcement"], "years": 3, "note": "两项"},
    )
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert corrected["version"] == 2
    assert corrected["grounds"] == ["obstructs_enforcement", "evades_enforcement"]
    assert corrected["ends_on"] == "2029-03-02"  # several grounds: term extended from the start
    events = await read_feed(client, credit)
    assert [(e["type"], e["reason"]) for e in events[2:]] == [("updated", "corrected")]
    assert events[-1]["listing"]["version"] == 2
    public = (await client.get(f"/listings/{listing['id']}")).json()
    assert public["grounds"] == corrected["grounds"]


async def test_ground_one_correction_drops_the_fixed_term(client, officer):
    _, listing = await listed_case(client, officer)
    response = await _patch(client, officer, listing["id"], {"grounds": ["able_but_refuses"]})
    assert response.status_code == 200, response.text
    assert response.json()["ends_on"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "no_change"),
        ({"grounds": ["obstructs_enforcement"]}, 422, "no_change"),
        ({"grounds": []}, 422, "ground_required"),
        ({"grounds": ["owes_money"]}, 422, "unknown_ground"),
        ({"years": 4}, 422, "extension_not_allowed"),
        ({"related_persons": [{"role": "actual_controller", "name": "王五"}]}, 422, None),
        ({"kind": "restricted"}, 422, "unknown_field"),
    ],
)
async def test_refused_corrections_name_the_rule(client, officer, body, status, code):
    _, listing = await listed_case(client, officer)
    response = await _patch(client, officer, listing["id"], body)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code


async def test_restriction_takes_no_grounds_and_persons_need_an_organization(client, officer):
    case, listing = await listed_case(client, officer)
    restricted = await _patch(
        client, officer, listing["id"] + 1, {"grounds": ["obstructs_enforcement"]}
    )
    assert restricted.json()["error"]["code"] == "grounds_not_applicable"
    persons = [{"role": "actual_controller", "name": "王五", "id_number": person_id()}]
    response = await _patch(client, officer, listing["id"], {"related_persons": persons})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "related_persons_not_applicable"


async def test_only_the_listing_court_corrects_an_active_listing(client, officer, make_token):
    _, listing = await listed_case(client, officer)
    other = await make_token("officer", court="甘0702")
    body = {"grounds": ["evades_enforcement"]}
    assert (await _patch(client, other, listing["id"], body)).status_code == 403
    assert (await _patch(client, officer, 999999, body)).status_code == 404
    await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "wrongly_listed"}, headers=officer
    )
    gone = await _patch(client, officer, listing["id"], body)
    assert gone.status_code == 409


async def test_organization_names_its_responsible_persons(client, officer, credit):
    rep_id, controller_id, manager_id = person_id(), person_id(), person_id()
    org = organization(legal_representative="李四", legal_representative_id_number=rep_id)
    case = await create_case(client, officer, respondents=[org])
    listing = await list_party(
        client,
        officer,
        case,
        related_persons=[
            {"role": "actual_controller", "name": "赵六", "id_number": controller_id},
            {"role": "principal", "name": "钱七", "id_number": manager_id},
        ],
    )
    roles = [(p["role"], p["name"], p["id_number"]) for p in listing["related_persons"]]
    assert roles == [
        ("legal_representative", "李四", rep_id),  # from the party, by default
        ("actual_controller", "赵六", controller_id),
        ("principal", "钱七", manager_id),
    ]
    screened = await client.post("/screen", json={"id_number": controller_id}, headers=credit)
    result = screened.json()
    assert result["restricted"] is True and result["dishonest"] is False
    assert {m["matched_on"] for m in result["matches"]} == {"actual_controller_id_number"}
    assert {m["listing"]["kind"] for m in result["matches"]} == {"dishonest", "restricted"}
    assert "actual controller" in result["reasons"][0]
    by_name = (await client.post("/screen", json={"name": "赵 六"}, headers=credit)).json()
    assert {m["matched_on"] for m in by_name["matches"]} == {"actual_controller_name"}
    public = (await client.get(f"/listings/{listing['id']}")).json()
    masked = {p["role"]: p["id_number"] for p in public["related_persons"]}
    assert masked["actual_controller"] == controller_id[:10] + "****" + controller_id[-4:]
    assert controller_id not in str(public)


async def test_related_persons_are_validated(client, officer):
    case = await create_case(client, officer, respondents=[organization()])
    for persons, code in [
        ([{"role": "boss", "name": "王五", "id_number": person_id()}], "invalid_input"),
        (
            [{"role": "principal", "name": "王五", "id_number": "620602198005170000"}],
            "invalid_id_number",
        ),
        ([{"role": "principal", "name": " ", "id_number": person_id()}], None),
    ]:
        refused = await list_party(client, officer, case, related_persons=persons, expect=422)
        if code:
            assert refused["error"]["code"] == code
    same = person_id()
    twice = [
        {"role": "principal", "name": "王五", "id_number": same},
        {"role": "principal", "name": "王五", "id_number": same},
    ]
    refused = await list_party(client, officer, case, related_persons=twice, expect=422)
    assert refused["error"]["code"] == "duplicate_related_person"


async def test_correcting_related_persons_reaches_the_implied_restriction(client, officer, credit):
    rep_id, new_rep_id = person_id(), person_id()
    org = organization(legal_representative="李四", legal_representative_id_number=rep_id)
    case = await create_case(client, officer, respondents=[org])
    listing = await list_party(client, officer, case)
    persons = [{"role": "legal_representative", "name": "周八", "id_number": new_rep_id}]
    response = await _patch(
        client, officer, listing["id"], {"related_persons": persons, "note": "法定代表人有误"}
    )
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert corrected["legal_representative"] == "周八"
    assert corrected["legal_representative_id_number"] == new_rep_id
    events = await read_feed(client, credit)
    assert [(e["type"], e["listing"]["kind"]) for e in events[2:]] == [
        ("updated", "dishonest"),
        ("updated", "restricted"),
    ]
    old = (await client.post("/screen", json={"id_number": rep_id}, headers=credit)).json()
    assert old["restricted"] is False
    new = (await client.post("/screen", json={"id_number": new_rep_id}, headers=credit)).json()
    assert new["restricted"] is True


async def test_webhook_subscribers_receive_corrections(client, officer, credit, runner):
    from tests.blacklist.receiver import Receiver

    receiver = Receiver()
    await receiver.start()
    try:
        _, listing = await listed_case(client, officer)
        hook = await client.post(
            "/webhooks", json={"url": receiver.url, "types": ["updated"]}, headers=credit
        )
        receiver.secret = hook.json()["secret"]
        body = {"grounds": ["evades_enforcement"]}
        assert (await _patch(client, officer, listing["id"], body)).status_code == 200
        await runner.run_due()
        assert receiver.ids == ["msg_3"]
        event = receiver.received[0][1]
        assert event["type"] == "listing.updated"
        assert event["data"]["listing"]["grounds"] == ["evades_enforcement"]
    finally:
        await receiver.stop()
