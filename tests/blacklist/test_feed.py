"""The feed and the export: every change once, in commit order; a snapshot plus the feed
rebuilds the lists exactly."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random

import pytest

from blacklist import feed, service
from blacklist.schemas import ListingCreate
from enforcement.cases.models import Case, CaseRespondent, Party
from enforcement.core import clock, db
from enforcement.core.auth import Principal
from tests.blacklist.conftest import list_party, listed_case, read_feed
from tests.conftest import requires_postgres
from tests.factories import create_case, person_id


async def test_feed_pages_follow_next(client, officer, credit):
    for _ in range(3):
        await listed_case(client, officer)
    first = (await client.get("/feed", params={"after": 0, "limit": 4}, headers=credit)).json()
    assert [e["seq"] for e in first["events"]] == [1, 2, 3, 4]
    assert first["next"] == 4
    rest = (await client.get("/feed", params={"after": first["next"]}, headers=credit)).json()
    assert [e["seq"] for e in rest["events"]] == [5, 6]
    empty = (await client.get("/feed", params={"after": 6}, headers=credit)).json()
    assert empty == {"events": [], "next": 6}
    event = first["events"][0]
    assert set(event) == {"seq", "type", "at", "reason", "listing"}
    assert dt.datetime.fromisoformat(event["at"]).utcoffset() is not None


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "１", "9" * 30])
async def test_garbage_cursor_is_422(client, credit, after):
    response = await client.get("/feed", params={"after": after}, headers=credit)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_cursor_from_the_future_is_409(client, officer, credit):
    await listed_case(client, officer)
    response = await client.get("/feed", params={"after": 3}, headers=credit)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cursor_ahead"
    assert response.json()["error"]["details"] == {"after": 3, "head": 2}


async def test_officers_and_the_public_cannot_read_the_feed(client, officer):
    assert (await client.get("/feed", headers=officer)).status_code == 403
    assert (await client.get("/feed")).status_code == 401
    assert (await client.get("/export")).status_code == 401


async def test_export_then_feed_rebuilds_the_lists(client, officer, credit):
    cases = [(await listed_case(client, officer)) for _ in range(3)]
    await client.post(
        f"/listings/{cases[0][1]['id']}/removal", json={"reason": "performed"}, headers=officer
    )
    response = await client.get("/export", headers=credit)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    seq = int(response.headers["X-Feed-Seq"])
    assert seq == 8
    mirror = {r["id"]: r for r in map(json.loads, response.text.splitlines())}
    assert len(mirror) == 4
    # changes after the snapshot
    case = await create_case(client, officer)
    await list_party(client, officer, case)
    await client.post(
        f"/listings/{cases[1][1]['id']}/removal", json={"reason": "wrongly_listed"}, headers=officer
    )
    for event in await read_feed(client, credit, after=seq):
        record = event["listing"]
        if record["status"] == "active":
            mirror[record["id"]] = record
        else:
            mirror.pop(record["id"], None)
    truth = {
        r["id"]: r
        for r in map(json.loads, (await client.get("/export", headers=credit)).text.splitlines())
    }
    assert mirror == truth
    assert len(truth) == 4


async def test_feed_reads_are_logged(client, officer, credit, uow):
    from sqlalchemy import select

    from blacklist.models import AccessLog

    await client.get("/feed", params={"after": 0}, headers=credit)
    async with uow() as s:
        kinds = list(await s.scalars(select(AccessLog.kind)))
    assert kinds == ["feed"]


async def _seed_cases(court: str, count: int, respondents: int) -> list[tuple[int, list[int]]]:
    """Cases straight into the database (the concurrency test needs many quickly)."""
    made: list[tuple[int, list[int]]] = []
    now = clock.now()
    async with db.unit_of_work() as s:
        for n in range(count):
            applicant = Party(kind="organization", name="银行", credit_code=None, created_at=now)
            case = Case(
                case_number=f"（2026）{court}执{90000 + n}号",
                court_code=court,
                filed_on=dt.date(2026, 3, 2),
                basis="判决",
                principal=100_00,
                fee=50_00,
                outstanding=100_00,
                fee_paid=0,
                deadline=dt.date(2026, 9, 2),
                status="open",
                applicant=applicant,
                created_at=now,
                updated_at=now,
            )
            for position in range(respondents):
                party = Party(
                    kind="person",
                    name=f"债务人{n}-{position}",
                    id_number=person_id(),
                    created_at=now,
                )
                case.respondents.append(CaseRespondent(party=party, position=position))
            s.add(case)
        await s.flush()
        rows = (await s.execute(CaseRespondent.__table__.select())).all()
    by_case: dict[int, list[int]] = {}
    for row in rows:
        by_case.setdefault(row.case_id, []).append(row.party_id)
    made = sorted(by_case.items())
    return made


@requires_postgres
async def test_concurrent_writers_and_a_polling_consumer_miss_nothing(uow, engine):
    """20 writers × 10 listings commit in random order while a consumer polls the feed."""
    court = "甘0602"
    principal = Principal(0, "test", "officer", court)
    cases = await _seed_cases(court, 20, 10)
    writers_done = asyncio.Event()

    async def writer(case_id: int, party_ids: list[int]) -> None:
        for party_id in party_ids:
            async with db.unit_of_work() as s:
                data = ListingCreate(case_id=case_id, party_id=party_id, kind="restricted")
                await service.create_listing(s, principal, data)
                await asyncio.sleep(random.random() / 100)  # hold the seq a while before commit

    seen: list[int] = []

    async def consumer() -> None:
        after = 0
        while True:
            finished = writers_done.is_set()
            async with db.unit_of_work() as s:
                rows, after = await feed.read_changes(s, after, 37)
            seen.extend(r.seq for r in rows)
            if finished and not rows:
                return
            await asyncio.sleep(0.001)

    polling = asyncio.create_task(consumer())
    await asyncio.gather(*(writer(case_id, parties) for case_id, parties in cases))
    writers_done.set()
    await polling
    assert len(seen) == 200
    assert seen == list(range(1, 201))  # no gap, no duplicate, in order


async def test_export_lines_are_the_stored_records_byte_for_byte(client, officer, credit, uow):
    from sqlalchemy import select

    from blacklist.models import Listing
    from tests.blacklist.conftest import list_party
    from tests.factories import create_case, person

    tricky = 'A "B" \\ C,D\t'
    case = await create_case(client, officer, respondents=[person(tricky + "王")])
    await list_party(client, officer, case)
    response = await client.get("/export", headers=credit)
    async with uow() as s:
        stored = list(await s.scalars(select(Listing.record).order_by(Listing.id)))
    assert response.content == ("\n".join(stored) + "\n").encode()
    assert json.loads(response.text.splitlines()[0])["name"] == tricky + "王"
