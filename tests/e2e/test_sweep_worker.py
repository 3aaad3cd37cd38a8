"""A sweep over 3,000 subjects on PostgreSQL + Redis with real arq workers: the first worker
process is killed (SIGKILL) mid-sweep, a second finishes it, and no subject was queried twice.

Everything that matters runs in its own process, as in production: the mock registries
(uvicorn, 20 ms latency, behind a request counter served at ``GET /_counts``) and each arq
worker (``build_worker().run()``). The test process only creates the run, watches the
database and kills. A killed worker's claims are closed as interrupted when arq re-runs their
batch jobs (``job_try`` 2), never asked again that night; every other subject is asked
exactly once, counted by the registries themselves.

After a SIGKILL arq re-runs a job only once its in-progress key expires (longest job timeout
+ 10 s, here 310 s); the test deletes those keys of its own queue instead of waiting, which is
the state Redis reaches by itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, select

from enforcement.assets import sweep
from enforcement.assets.models import SweepSubject
from enforcement.cases.models import Party
from enforcement.core import db, jobs
from enforcement.core.settings import Settings
from tests.assets.helpers import bulk_cases
from tests.conftest import REDIS_URL, requires_postgres, requires_redis

pytestmark = [requires_postgres, requires_redis]
SUBJECTS = 3000
LATENCY_MS = 20
IN_FLIGHT = 100
ROOT = Path(__file__).resolve().parents[2]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def serve_counted(port: int, latency_ms: float) -> None:
    """Subprocess entry: the mock registries behind a request counter (``GET /_counts``)."""
    import uvicorn
    from starlette.responses import JSONResponse

    from connectors.mock.faults import FaultSettings
    from connectors.mock.server import MockSettings, build_app

    app = build_app(MockSettings(bank_pending_polls=0, faults=FaultSettings(latency_ms=latency_ms)))
    counts: Counter[str] = Counter()

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == "/_counts":
                await JSONResponse(dict(counts))(scope, receive, send)
                return
            counts[f"{scope['method']} {scope['path']}"] += 1
        await app(scope, receive, send)

    uvicorn.run(counting, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn(code: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _worker_env(settings: Settings, queue: str, url: str) -> dict[str, str]:
    """The environment of a worker process: the test database, its queue, the counted mocks."""
    connectors = {
        name: {
            "base_url": f"{url}/{name}",
            "rate_limit_per_second": 100_000,
            "rate_limit_burst": 1000,
            "max_in_flight": IN_FLIGHT,
        }
        for name in ("bank", "vehicle", "securities", "business")
    }
    # keep the real-clock crons (02:00 Asia/Shanghai) away from this run
    shanghai_hour = (dt.datetime.now(dt.UTC).hour + 8) % 24
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENFORCEMENT_")}
    env.update(
        ENFORCEMENT_DATABASE_URL=settings.database_url,
        ENFORCEMENT_REDIS_URL=REDIS_URL,
        ENFORCEMENT_QUEUE_NAME=queue,
        ENFORCEMENT_CONNECTORS=json.dumps(connectors),
        ENFORCEMENT_SWEEP_HOUR=str((shanghai_hour + 12) % 24),
        ENFORCEMENT_SWEEP_SUBJECTS_IN_FLIGHT=str(IN_FLIGHT),
        ENFORCEMENT_START_MOCK_REGISTRIES="false",
    )
    return env


WORKER = "from enforcement.worker import build_worker; build_worker().run()"


async def _done(run_id: int) -> int:
    async with db.unit_of_work() as s:
        count = await s.scalar(
            select(func.count()).where(
                SweepSubject.sweep_id == run_id, SweepSubject.status == "done"
            )
        )
        return int(count or 0)


async def _wait_for(run_id: int, at_least: int, process: subprocess.Popen[bytes]) -> int:
    """Poll the database until ``at_least`` subjects are done (bounded: two minutes)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = await _done(run_id)
        if done >= at_least:
            return done
        assert process.poll() is None, "the worker process exited"
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {await _done(run_id)} of {at_least} subjects done in time")


async def _forget_in_progress(queue: str) -> int:
    """What Redis does by itself 310 s after a SIGKILL: the dead worker's jobs may run again."""
    redis = Redis.from_url(REDIS_URL)
    keys = [k async for k in redis.scan_iter(match=f"arq:in-progress:{queue}:*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    return len(keys)


async def test_sweep_survives_a_killed_worker_and_queries_nobody_twice(
    settings: Settings, engine: object, uow: object
) -> None:
    queue = f"enf-test:{secrets.token_hex(4)}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="sweep_e2e_"))
    mocks = _spawn(
        f"from tests.e2e.test_sweep_worker import serve_counted; "
        f"serve_counted({port}, {LATENCY_MS})",
        dict(os.environ),
        logs / "mocks.log",
    )
    workers: list[subprocess.Popen[bytes]] = []
    backend = await jobs.ArqBackend.connect(REDIS_URL, queue)
    previous = jobs.set_backend(backend)
    try:
        ids = await bulk_cases(SUBJECTS)
        async with db.unit_of_work() as s:
            run, created = await sweep.start_sweep(s, trigger="test")
        assert created
        assert run.subjects_total == SUBJECTS
        env = _worker_env(settings, queue, url)

        started = time.monotonic()
        first = _spawn(WORKER, env, logs / "worker1.log")
        workers.append(first)
        await _wait_for(run.id, SUBJECTS // 3, first)
        print(f"first worker killed after {time.monotonic() - started:.1f} s")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        stopped_at = await _done(run.id)
        assert stopped_at < SUBJECTS, "the first worker finished before it was killed"
        assert await _forget_in_progress(queue) > 0, "the killed worker was running batch jobs"

        second = _spawn(WORKER, env, logs / "worker2.log")
        workers.append(second)
        await _wait_for(run.id, SUBJECTS, second)
        print(f"second worker done after {time.monotonic() - started:.1f} s")
        async with httpx.AsyncClient() as client:
            counts: Counter[str] = Counter((await client.get(f"{url}/_counts")).json())
    finally:
        for process in [*workers, mocks]:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
        jobs.set_backend(previous)
        await backend.close()
        redis = Redis.from_url(REDIS_URL)
        async for key in redis.scan_iter(match=f"arq:*{queue}*", count=1000):
            await redis.delete(key)
        await redis.aclose()

    async with db.unit_of_work() as s:
        summary = await sweep.get_sweep(s, run.id)
        rows = (
            await s.execute(
                select(Party.id_number, SweepSubject.errors)
                .join(Party, Party.id == SweepSubject.party_id)
                .where(SweepSubject.sweep_id == run.id)
            )
        ).all()
    assert summary.status == "done"
    assert summary.subjects_done == SUBJECTS
    interrupted = {r.id_number for r in rows if sweep.INTERRUPTED in (r.errors or {})}
    assert 0 < len(interrupted) <= sweep.window_size(IN_FLIGHT), (stopped_at, len(interrupted))
    assert set(summary.errors) == {sweep.INTERRUPTED}, "no registry failed"
    assert summary.assets_new > SUBJECTS // 2
    vehicle = Counter({k: v for k, v in counts.items() if k.startswith("GET /vehicle/owners/")})
    assert set(vehicle.values()) == {1}, "no subject was queried twice"
    asked = {k.split("/")[3] for k in vehicle}
    assert asked >= set(ids) - interrupted, "everybody else was asked"
    assert counts["POST /bank/inquiries"] <= SUBJECTS
