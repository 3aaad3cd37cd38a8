"""The nightly sweep with the in-process runner: counts, once per night, resumable, faults."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from connectors.mock import data
from enforcement.assets import sweep
from enforcement.assets.models import Asset, SweepSubject
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


async def test_a_dead_workers_claim_is_closed_not_queried_again(
    client, admin, connectors, drain, request_counts, frozen_clock
):
    ids = await bulk_cases(3)
    async with db.unit_of_work() as s:
        run, _ = await sweep.start_sweep(s, trigger="test", enqueue=False)
        rows = list(
            (
                await s.execute(
                    select(SweepSubject.id)
                    .where(SweepSubject.sweep_id == run.id)
                    .order_by(SweepSubject.id)
                )
            ).scalars()
        )
        # a worker claimed the first subject, asked the registries and died
        await s.execute(
            update(SweepSubject)
            .where(SweepSubject.id == rows[0])
            .values(status="running", claimed_at=clock.now())
        )
    window = sweep.Window(10)
    assert await sweep.process_batch(run.id, rows[0], rows[-1], window=window) == 2
    assert await sweep.process_batch(run.id, rows[0], rows[-1], window=window) == 0, "never twice"
    assert len(_vehicle_queries(request_counts)) == 2
    assert f"GET /vehicle/owners/{ids[0]}/vehicles" not in request_counts
    await sweep.finish(run.id)
    async with db.unit_of_work() as s:
        assert (await sweep.get_sweep(s, run.id)).status == "running", "one claim is open"

    # arq re-runs the batch job of the dead worker: its claim is closed, not asked again
    assert await sweep.process_batch(run.id, rows[0], rows[-1], window=window, retried=True) == 0
    assert f"GET /vehicle/owners/{ids[0]}/vehicles" not in request_counts
    await sweep.finish(run.id)
    async with db.unit_of_work() as s:
        summary = await sweep.get_sweep(s, run.id)
    assert summary.status == "done"
    assert summary.run.finished_at is not None
    assert summary.errors[sweep.INTERRUPTED]["count"] == 1
    assert window.free == window.size


async def test_a_claim_older_than_the_lease_is_closed_by_the_finish_check(
    client, admin, connectors, frozen_clock
):
    await bulk_cases(2)
    async with db.unit_of_work() as s:
        run, _ = await sweep.start_sweep(s, trigger="test", enqueue=False)
        await s.execute(
            update(SweepSubject)
            .where(SweepSubject.sweep_id == run.id)
            .values(status="running", claimed_at=clock.now())
        )
    await sweep.finish(run.id)
    async with db.unit_of_work() as s:
        assert (await sweep.get_sweep(s, run.id)).subjects_done == 0
    frozen_clock.advance(sweep.LEASE + dt.timedelta(seconds=1))
    await sweep.finish(run.id)
    async with db.unit_of_work() as s:
        summary = await sweep.get_sweep(s, run.id)
    assert summary.status == "done"
    assert summary.errors[sweep.INTERRUPTED]["count"] == 2


async def test_second_night_counts_changed_and_gone_assets(
    client, admin, connectors, drain, frozen_clock
):
    ids = await bulk_cases(6)
    first = (await client.post("/sweeps", headers=admin)).json()["id"]
    await drain()
    async with db.unit_of_work() as s:
        target = (
            await s.execute(select(Asset).where(Asset.registry_name == "vehicle").limit(1))
        ).scalar_one()
        target.value += 1  # the registry will report the old value: changed
        s.add(
            Asset(
                case_id=target.case_id, party_id=target.party_id, registry_name="vehicle",
                kind="vehicle", registry_ref="vehicle:gone", description="sold privately",
                value=1, holder="x", raw={}, status="present", first_seen_at=clock.now(),
                last_seen_at=clock.now(),
            )
        )  # fmt: skip
    frozen_clock.advance(days=1)
    second = (await client.post("/sweeps", headers=admin)).json()["id"]
    assert second != first
    await drain()
    run = (await client.get(f"/sweeps/{second}", headers=admin)).json()
    assert (run["assets_new"], run["assets_changed"], run["assets_gone"]) == (0, 1, 1)
    assert run["subjects_done"] == len(ids)


async def test_cli_run_now_polls_inline(client, admin, connectors, request_counts):
    await bulk_cases(4)
    progress: list[tuple[int, int]] = []
    sweep_id = await sweep.run_now(concurrency=2, on_progress=lambda d, t: progress.append((d, t)))
    assert progress[-1] == (4, 4)
    run = (await client.get(f"/sweeps/{sweep_id}", headers=admin)).json()
    assert run["status"] == "done"
    assert run["finished_at"] is not None
