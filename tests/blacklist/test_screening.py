"""Screening: identifiers decide (however they are typed), names only nominate."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from blacklist.models import AccessLog
from enforcement.core.identifiers import make_resident_id
from enforcement.core.settings import get_settings
from tests.blacklist.conftest import list_party, listed_case
from tests.factories import create_case, organization, person, person_id


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


async def test_listed_id_number_is_decided(client, officer, credit):
    case, listing = await listed_case(client, officer)
    id_number = case["respondents"][0]["id_number"]
    response = await client.post("/screen", json={"id_number": id_number}, headers=credit)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["decided"] is True
    assert result["dishonest"] is True
    assert result["restricted"] is True
    assert {m["matched_on"] for m in result["matches"]} == {"id_number"}
    assert {m["score"] for m in result["matches"]} == {1.0}
    assert {m["listing"]["kind"] for m in result["matches"]} == {"dishonest", "restricted"}
    assert result["matches"][0]["listing"]["id_number"] == id_number  # credit sees full records
    assert any("obstructs_enforcement" in r for r in result["reasons"])
    assert result["hint"] is None


@pytest.mark.parametrize(
    "typed",
    [
        lambda v: _full_width(v),
        lambda v: f" {v[:6]} {v[6:14]} {v[14:]} ",
        lambda v: v[:-1] + v[-1].lower(),
    ],
)
async def test_identifiers_are_normalized(client, officer, credit, typed):
    ending_in_x = next(
        make_resident_id("620602", dt.date(1975, 1, 2), n)
        for n in range(1000)
        if make_resident_id("620602", dt.date(1975, 1, 2), n).endswith("X")
    )
    case = await create_case(client, officer, respondents=[person(id_number=ending_in_x)])
    await list_party(client, officer, case, kind="restricted")
    result = (
        await client.post("/screen", json={"id_number": typed(ending_in_x)}, headers=credit)
    ).json()
    assert result["restricted"] is True
    assert result["dishonest"] is False


async def test_legacy_fifteen_digit_id_is_mapped(client, officer, credit):
    modern = make_resident_id("620602", dt.date(1975, 1, 2), 123)
    case = await create_case(client, officer, respondents=[person(id_number=modern)])
    await list_party(client, officer, case, kind="restricted")
    legacy = modern[:6] + modern[8:17]
    result = (await client.post("/screen", json={"id_number": legacy}, headers=credit)).json()
    assert result["restricted"] is True


async def test_unlisted_subject_is_clear(client, officer, credit):
    await listed_case(client, officer)
    result = (await client.post("/screen", json={"id_number": person_id()}, headers=credit)).json()
    assert result == {
        "matches": [],
        "decided": True,
        "dishonest": False,
        "restricted": False,
        "reasons": [],
        "hint": None,
    }


async def test_bad_identifiers_and_empty_requests(client, credit):
    bad = await client.post("/screen", json={"id_number": "620602198005170000"}, headers=credit)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_id_number"
    bad = await client.post("/screen", json={"credit_code": "91620602000000000A"}, headers=credit)
    assert bad.json()["error"]["code"] == "invalid_credit_code"
    empty = await client.post("/screen", json={}, headers=credit)
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "missing_query"


async def test_organization_and_its_legal_representative(client, officer, credit):
    rep_id = person_id()
    org = organization(legal_representative="李四", legal_representative_id_number=rep_id)
    case = await create_case(client, officer, respondents=[org])
    await list_party(client, officer, case)
    by_code = (
        await client.post("/screen", json={"credit_code": org["credit_code"]}, headers=credit)
    ).json()
    assert by_code["dishonest"] is True
    rep = (await client.post("/screen", json={"id_number": rep_id}, headers=credit)).json()
    assert rep["restricted"] is True
    assert rep["dishonest"] is False  # restricted as representative, not listed personally
    assert {m["matched_on"] for m in rep["matches"]} == {"legal_representative_id_number"}
    assert "legal representative" in rep["reasons"][0]


async def test_names_only_nominate(client, officer, credit):
    for _ in range(2):  # two different people called 王伟
        case = await create_case(client, officer, respondents=[person("王伟")])
        await list_party(client, officer, case, kind="restricted")
    for typed in ("王伟", "王 偉", "王　伟"):
        result = (await client.post("/screen", json={"name": typed}, headers=credit)).json()
        assert result["decided"] is False
        assert result["restricted"] is None
        assert "identifier" in result["hint"]
        assert len(result["matches"]) == 2
        assert all(m["score"] < 1 for m in result["matches"])
    exact = (await client.post("/screen", json={"name": "王伟"}, headers=credit)).json()
    folded = (await client.post("/screen", json={"name": "王 偉"}, headers=credit)).json()
    assert exact["matches"][0]["score"] > folded["matches"][0]["score"]


async def test_every_screening_is_logged(client, officer, credit, uow):
    case, listing = await listed_case(client, officer)
    id_number = case["respondents"][0]["id_number"]
    await client.post("/screen", json={"id_number": id_number}, headers=credit)
    async with uow() as s:
        logs = list(await s.scalars(select(AccessLog).where(AccessLog.kind == "screen")))
    assert len(logs) == 1
    log = logs[0]
    assert log.actor.startswith("credit:credit-bureau")
    assert id_number not in log.query_hash and len(log.query_hash) == 64
    asked = json.dumps({"id_number": id_number}, separators=(",", ":")).encode()
    key = get_settings().screening_hmac_key.get_secret_value().encode()
    assert log.query_hash == hmac.new(key, asked, hashlib.sha256).hexdigest()
    assert log.query_hash != hashlib.sha256(asked).hexdigest()  # keyed, not a bare hash
    assert log.result["listings"] == [[listing["id"], 1], [listing["id"] + 1, 1]]


async def test_officers_cannot_screen(client, officer):
    response = await client.post("/screen", json={"name": "王伟"}, headers=officer)
    assert response.status_code == 403


async def test_name_screening_is_logged_undecided(client, officer, credit, uow):
    await listed_case(client, officer)
    result = (await client.post("/screen", json={"name": "张三"}, headers=credit)).json()
    assert len(result["matches"]) == 2
    async with uow() as s:
        log = await s.scalar(select(AccessLog).where(AccessLog.kind == "screen"))
    assert log is not None
    assert log.result["decided"] is False and log.result["restricted"] is None
    assert len(log.result["listings"]) == 2
