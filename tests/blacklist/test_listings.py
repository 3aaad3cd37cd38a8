"""Listings through HTTP: what the law allows, what it refuses, and how listings end."""

from __future__ import annotations

import datetime as dt

import pytest

from enforcement.core.identifiers import make_resident_id
from tests.blacklist.conftest import list_party, listed_case, read_feed
from tests.factories import create_case, organization, person, person_id


async def test_dishonest_listing_implies_a_restriction(client, officer, credit):
    case, listing = await listed_case(client, officer)
    assert listing["kind"] == "dishonest"
    assert listing["grounds"] == ["obstructs_enforcement"]
    assert listing["starts_on"] == "2026-03-02"
    assert listing["ends_on"] == "2028-03-02"
    assert listing["status"] == "active"
    assert listing["version"] == 1
    assert listing["case_number"] == case["case_number"]
    assert listing["id_number"] == case["respondents"][0]["id_number"]
    assert listing["sex"] in {"male", "female"}
    events = await read_feed(client, credit)
    assert [(e["type"], e["listing"]["kind"]) for e in events] == [
        ("listed", "dishonest"),
        ("listed", "restricted"),
    ]
    assert events[1]["listing"]["implied_by_id"] == listing["id"]
    assert events[1]["listing"]["ends_on"] is None


async def test_ground_one_has_no_fixed_term(client, officer):
    case = await create_case(client, officer)
    listing = await list_party(client, officer, case, grounds=["able_but_refuses"])
    assert listing["ends_on"] is None


async def test_aggravated_term_up_to_five_years(client, officer):
    case = await create_case(client, officer)
    listing = await list_party(client, officer, case, years=5, aggravated=True)
    assert listing["ends_on"] == "2031-03-02"


async def test_organization_listing_names_its_legal_representative(client, officer):
    rep_id = person_id()
    org = organization(legal_representative="李四", legal_representative_id_number=rep_id)
    case = await create_case(client, officer, respondents=[org])
    listing = await list_party(client, officer, case)
    assert listing["subject_kind"] == "organization"
    assert listing["credit_code"] == org["credit_code"]
    assert listing["legal_representative"] == "李四"
    assert listing["legal_representative_id_number"] == rep_id


async def test_public_search_finds_an_organization_by_its_legal_representative(client, officer):
    rep_id = person_id()
    org = organization(legal_representative="李四", legal_representative_id_number=rep_id)
    case = await create_case(client, officer, respondents=[org])
    listing = await list_party(client, officer, case)
    for q in ("李四", rep_id):
        found = (await client.get("/listings", params={"q": q})).json()["items"]
        assert {item["id"] for item in found} >= {listing["id"]}, q
        assert rep_id not in str(found)  # masked in public
    stranger = (await client.get("/listings", params={"q": person_id()})).json()["items"]
    assert stranger == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"grounds": ["owes_money"]}, "unknown_ground"),
        ({"grounds": []}, "ground_required"),
        ({"kind": "blocked"}, "unknown_kind"),
        ({"kind": "restricted", "grounds": ["breaks_settlement"]}, "grounds_not_applicable"),
        ({"years": 3}, "extension_not_allowed"),
        ({"years": 2, "grounds": ["able_but_refuses"]}, "term_not_applicable"),
        ({"grounds": ["able_but_refuses"], "adequately_secured": True}, "adequately_secured"),
        ({"grounds": ["able_but_refuses"], "later_in_order": True}, "later_in_order"),
    ],
)
async def test_refused_listings_name_the_rule(client, officer, body, code):
    case = await create_case(client, officer)
    payload = {
        "case_id": case["id"],
        "party_id": case["respondents"][0]["id"],
        "kind": "dishonest",
        "grounds": ["obstructs_enforcement"],
        **body,
    }
    response = await client.post("/listings", json=payload, headers=officer)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_minor_is_never_listed(client, officer):
    # 18 tomorrow: still a minor today (clock: 2026-03-02)
    minor = person(id_number=make_resident_id("620602", dt.date(2008, 3, 3), 11))
    case = await create_case(client, officer, respondents=[minor])
    for kind in ("dishonest", "restricted"):
        response = await client.post(
            "/listings",
            json={
                "case_id": case["id"],
                "party_id": case["respondents"][0]["id"],
                "kind": kind,
                "grounds": ["obstructs_enforcement"] if kind == "dishonest" else [],
            },
            headers=officer,
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "minor_not_listable"


async def test_birth_date_in_the_id_decides_minority(client, officer):
    minor = person(id_number=person_id(birth=dt.date(2010, 1, 1)))
    case = await create_case(client, officer, respondents=[minor])
    body = {"case_id": case["id"], "party_id": case["respondents"][0]["id"], "kind": "restricted"}
    response = await client.post("/listings", json=body, headers=officer)
    assert response.json()["error"]["code"] == "minor_not_listable"


async def test_applicant_is_not_a_respondent(client, officer):
    case = await create_case(client, officer)
    body = {"case_id": case["id"], "party_id": case["applicant"]["id"], "kind": "restricted"}
    response = await client.post("/listings", json=body, headers=officer)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_a_respondent"


async def test_party_of_another_courts_case(client, officer, make_token):
    other = await make_token("officer", court="甘0702")
    foreign = await create_case(client, other, case_number="（2026）甘0702执77号")
    mine = await create_case(client, officer)
    # another court's case: 403
    body = {
        "case_id": foreign["id"],
        "party_id": foreign["respondents"][0]["id"],
        "kind": "restricted",
    }
    response = await client.post("/listings", json=body, headers=officer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_court"
    # another court's party on my case: not a respondent of it
    body = {
        "case_id": mine["id"],
        "party_id": foreign["respondents"][0]["id"],
        "kind": "restricted",
    }
    response = await client.post("/listings", json=body, headers=officer)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_a_respondent"


async def test_unknown_case_is_404(client, officer):
    body = {"case_id": 999999, "party_id": 1, "kind": "restricted"}
    response = await client.post("/listings", json=body, headers=officer)
    assert response.status_code == 404


async def test_closed_case_cannot_be_listed(client, officer):
    case = await create_case(client, officer)
    response = await client.post(
        f"/cases/{case['id']}/payments", json={"amount": "100000.00"}, headers=officer
    )
    assert response.status_code == 201
    response = await client.post(
        "/listings",
        json={
            "case_id": case["id"],
            "party_id": case["respondents"][0]["id"],
            "kind": "restricted",
        },
        headers=officer,
    )
    assert response.json()["error"]["code"] == "case_not_open"


async def test_same_listing_twice_is_refused(client, officer):
    case, _ = await listed_case(client, officer)
    again = await list_party(client, officer, case, expect=422)
    assert again["error"]["code"] == "already_listed"
    # the implied restriction already exists
    restricted = await list_party(client, officer, case, kind="restricted", expect=422)
    assert restricted["error"]["code"] == "already_listed"


async def test_only_court_staff_list(client, credit, officer):
    case = await create_case(client, officer)
    body = {"case_id": case["id"], "party_id": case["respondents"][0]["id"], "kind": "restricted"}
    response = await client.post("/listings", json=body, headers=credit)
    assert response.status_code == 403


async def test_removal_needs_a_reason(client, officer):
    _, listing = await listed_case(client, officer)
    for body, code in [
        ({}, "reason_required"),
        ({"reason": "bored"}, "unknown_reason"),
        ({"reason": "expired"}, "reason_reserved"),
    ]:
        response = await client.post(
            f"/listings/{listing['id']}/removal", json=body, headers=officer
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == code


async def test_removal_ends_the_listing_and_its_restriction(client, officer, credit):
    _, listing = await listed_case(client, officer)
    response = await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "wrongly_listed"}, headers=officer
    )
    assert response.status_code == 200, response.text
    removed = response.json()
    assert removed["status"] == "removed"
    assert removed["version"] == 2
    assert removed["removal_reason"] == "wrongly_listed"
    assert removed["deletion_deadline"] == "2026-03-05"
    again = await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "wrongly_listed"}, headers=officer
    )
    assert again.status_code == 409
    events = await read_feed(client, credit)
    assert [(e["type"], e["listing"]["kind"], e["reason"]) for e in events[2:]] == [
        ("removed", "dishonest", "wrongly_listed"),
        ("removed", "restricted", "wrongly_listed"),
    ]


async def test_removal_by_another_court_is_403(client, officer, make_token):
    _, listing = await listed_case(client, officer)
    other = await make_token("officer", court="甘0702")
    response = await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "performed"}, headers=other
    )
    assert response.status_code == 403


async def test_paying_off_the_case_ends_every_listing(client, officer, credit):
    case, listing = await listed_case(client, officer)
    response = await client.post(
        f"/cases/{case['id']}/payments", json={"amount": "100000.00"}, headers=officer
    )
    assert response.status_code == 201
    events = await read_feed(client, credit)
    assert [(e["type"], e["reason"]) for e in events[2:]] == [("removed", "performed")] * 2
    public = await client.get(f"/listings/{listing['id']}")
    assert public.json()["status"] == "removed"


async def test_terminated_case_ends_listings(client, officer, credit):
    case, _ = await listed_case(client, officer)
    response = await client.post(
        f"/cases/{case['id']}/close", json={"mode": "terminated", "reason": "终结"}, headers=officer
    )
    assert response.status_code == 200, response.text
    events = await read_feed(client, credit)
    assert {e["reason"] for e in events[2:]} == {"case_terminated"}


async def test_expiry_job_ends_fixed_terms_and_keeps_the_restriction(
    client, officer, credit, frozen_clock
):
    from blacklist.jobs import expire_listings

    case = await create_case(client, officer)
    fixed = await list_party(client, officer, case)
    frozen_clock.advance(days=730)  # 2028-03-01: one day short
    assert await expire_listings({}) == 0
    frozen_clock.advance(days=1)
    assert await expire_listings({}) == 1
    events = await read_feed(client, credit)
    assert [(e["listing"]["id"], e["reason"]) for e in events[2:]] == [(fixed["id"], "expired")]
    assert events[-1]["listing"]["deletion_deadline"] == "2028-03-07"
    # 限消 follows the debt, not the term
    public = (await client.get("/listings")).json()["items"]
    assert [(i["kind"], i["status"]) for i in public] == [("restricted", "active")]


async def test_relisting_after_applicant_request_waits_six_months(client, officer, frozen_clock):
    case, listing = await listed_case(client, officer)
    response = await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "applicant_request"}, headers=officer
    )
    assert response.status_code == 200
    refused = await list_party(client, officer, case, requested_by_applicant=True, expect=422)
    assert refused["error"]["code"] == "relisting_barred"
    await list_party(client, officer, case)  # the court acting on its own may
    await client.post(
        f"/listings/{listing['id'] + 2}/removal", json={"reason": "wrongly_listed"}, headers=officer
    )


async def test_public_view_masks_id_numbers(client, officer):
    case, listing = await listed_case(client, officer)
    full = case["respondents"][0]["id_number"]
    response = await client.get("/listings", params={"q": full})
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["id"] for i in items} == {listing["id"], listing["id"] + 1}
    for item in items:
        assert item["id_number"] == full[:10] + "****" + full[-4:]
        assert full not in str(item)
    by_name = (await client.get("/listings", params={"q": "張 三"})).json()["items"]  # traditional
    assert {i["id"] for i in by_name} >= {listing["id"]}


async def test_public_listing_pages(client, officer):
    for _ in range(3):
        await listed_case(client, officer)
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/listings", params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    bad = await client.get("/listings", params={"cursor": "%%%"})
    assert bad.status_code == 422


async def test_stats_count_listings(client, officer):
    case, listing = await listed_case(client, officer)
    await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "performed"}, headers=officer
    )
    stats = (await client.get("/stats", headers=officer)).json()
    assert stats["listings"]["listed"] == 2
    assert stats["listings"]["removed"] == 2
    assert stats["listings"]["current"] == 0


async def test_idempotent_listing(client, officer):
    case = await create_case(client, officer)
    body = {"case_id": case["id"], "party_id": case["respondents"][0]["id"], "kind": "restricted"}
    headers = {**officer, "Idempotency-Key": "list-1"}
    first = await client.post("/listings", json=body, headers=headers)
    second = await client.post("/listings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
