"""The nightly sweep with the in-process runner: counts, once per night, resumable, faults."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from connectors.mock import data
from enforcement.assets import sweep
from enforcement.assets.models import SweepSubject
from enforcement.cases.models import Case
from enforcement.core import clock, db

from .helpers import bulk_cases, case_for, expected_assets


def _vehicle_queries(counts) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k.startswith("GET /vehicle/owners/")}


async def test_sweep_finds_assets_once_per_night(
    client, admin, officer, connectors, drain, request_counts, frozen_clock
):
    ids = await bulk_cases(12)
    started = await client.post("/sweeps", headers=admin)
    assert started.status_code == 202
    sweep_id = started.json()["id"]
    await drain()
    run = (await client.get(f"/sweeps/{sweep_id}", headers=admin)).json()
    assert run["status"] == "done"
    assert run["subjects_total"] == run["subjects_done"] == 12
    assert run["assets_new"] == sum(expected_assets(i) for i in ids)
    assert run["errors"] == {}
    queried = _vehicle_queries(request_counts)
    assert len(queried) == 12
    assert set(queried.values()) == {1}

    again = await client.post("/sweeps", headers=admin)
    assert again.json()["id"] == sweep_id, "one run per night"
    assert await sweep.enqueue_batch(sweep_id, 0) == 0, "every subject is marked done"
    await drain()
    assert _vehicle_queries(request_counts) == queried

    frozen_clock.advance(days=1)
    nxt = (await client.post("/sweeps", headers=admin)).json()["id"]
    assert nxt != sweep_id
    await drain()
    second = (await client.get(f"/sweeps/{nxt}", headers=admin)).json()
    assert (second["assets_new"], second["assets_changed"], second["assets_gone"]) == (0, 0, 0)
    listed = (await client.get("/sweeps", headers=admin)).json()["items"]
    assert [r["id"] for r in listed] == [nxt, sweep_id]
    assert (await client.get("/sweeps", headers=officer)).status_code == 403


async def test_terminated_cases_are_swept_every_six_months(
    client, admin, officer, connectors, drain, frozen_clock
):
    case = await case_for(client, officer, data.make_person_id(99_999), filed_on="2025-06-01")
    closed = await client.post(
        f"/cases/{case['id']}/close",
        json={"mode": "terminated_this_round", "reason": "no assets"},
        headers=officer,
    )
    assert closed.status_code == 200, closed.text
    async with db.unit_of_work() as s:
        run, _ = await sweep.start_sweep(s, trigger="test", enqueue=False)
        assert run.subjects_total == 0, "closed today: not due yet"
    frozen_clock.advance(days=183)
    async with db.unit_of_work() as s:
        run, _ = await sweep.start_sweep(s, trigger="test", enqueue=False)
        assert run.subjects_total == 0, "one day short of six months"
    frozen_clock.advance(days=1)
    async with db.unit_of_work() as s:
        run, _ = await sweep.start_sweep(s, trigger="test", enqueue=False)
        assert run.subjects_total == 1, "six months later it is due"


async def test_failing_registry_is_recorded_per_registry(client, admin, install, drain):
    install(per_registry={"securities": {"headers": {"X-Mock-Fault": "garbage"}}})
    await bulk_cases(5)
    sweep_id = (await client.post("/sweeps", headers=admin)).json()["id"]
    await drain()
    run = (await client.get(f"/sweeps/{sweep_id}", headers=admin)).json()
    assert run["status"] == "done"
    assert run["subjects_done"] == 5
    assert run["errors"]["securities"]["count"] == 5
    assert "unreadable" in run["errors"]["securities"]["last_error"]
    assert run["assets_new"] > 0


async def test_a_claimed_subject_is_not_queried_again_until_its_lease_expires(
    client, admin, connectors, drain, request_counts, frozen_clock
):
    await bulk_cases(3)
    async with db.unit_of_work() as s:
        run, _ = await sweep.start_sweep(s, trigger="test", enqueue=False)
        rows = list(
            (
                await s.execute(select(SweepSubject.id).where(SweepSubject.sweep_id == run.id))
            ).scalars()
        )
        # a worker claimed the first subject and died
        await s.execute(
            update(SweepSubject)
            .where(SweepSubject.id == rows[0])
            .values(status="running", claimed_at=clock.now())
        )
    assert await sweep.process_subject(rows[0]) is False
    assert await sweep.process_subject(rows[1]) is True
    assert await sweep.process_subject(rows[1]) is False, "done: never twice"
    frozen_clock.advance(sweep.LEASE + dt.timedelta(seconds=1))
    assert await sweep.process_subject(rows[0]) is True, "the dead worker's claim is taken over"
    await drain()
    async with db.unit_of_work() as s:
        statuses = (
            (await s.execute(select(SweepSubject.status).where(SweepSubject.id.in_(rows[:2]))))
            .scalars()
            .all()
        )
        assert set(statuses) <= {"done", "waiting"}
        assert await s.scalar(select(Case.id).limit(1))


async def test_cli_run_now_polls_inline(client, admin, connectors, request_counts):
    await bulk_cases(4)
    progress: list[tuple[int, int]] = []
    sweep_id = await sweep.run_now(concurrency=2, on_progress=lambda d, t: progress.append((d, t)))
    assert progress[-1] == (4, 4)
    run = (await client.get(f"/sweeps/{sweep_id}", headers=admin)).json()
    assert run["status"] == "done"
    assert run["finished_at"] is not None
