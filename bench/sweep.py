"""Sweep throughput against the mock registries, beside bare HTTP loops: ``python bench/sweep.py``.

Starts the mock registries (uvicorn, separate process) with a fixed latency, creates
``--subjects`` open cases in a throw-away PostgreSQL database, runs the sweep in this process
(``sweep.run_now``: the batch code the workers run, waiting for the bank inline) and prints
subjects/s beside a bare httpx loop and a bare aiohttp loop doing the same requests per
subject (bank submit + poll until done, vehicle, securities pages, business) with the same
concurrency, and the latency ceiling (concurrency ÷ the bank's two round trips). The ratio is
held against the best bare rate (``performance.md``). Loopback only; cleans up after itself.
Registry rate limits are raised out of the way (``--rate``): this measures our overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.mock import data

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_mocks(port: int, latency_ms: int) -> subprocess.Popen[bytes]:
    code = (
        "from connectors.mock.server import MockSettings, run; "
        f"run(port={port}, settings=MockSettings(bank_pending_polls=0), latency_ms={latency_ms})"
    )
    server = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(400):  # bounded: 20 s
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.terminate()
    raise RuntimeError("mock registries did not start")


Get = Callable[[str, str, dict[str, object] | None], Awaitable[dict[str, object]]]


async def _one_subject(url: str, pid: str, get: Get, post: Get) -> None:
    """The requests the connectors make for one person, bank polled until DONE."""

    async def bank() -> None:
        body = {"subject_type": "P", "subject_name": "x", "cert_no": pid, "purpose": "sweep"}
        receipt = await post(f"{url}/bank/inquiries", "", body)
        number = receipt["data"]["inquiry_no"]  # type: ignore[index]
        for delay in (0.0, 0.1, 0.2, 0.4, 0.8):
            await asyncio.sleep(delay)
            answer = await get(f"{url}/bank/inquiries/{number}", "", None)
            if answer["data"]["state"] == "DONE":  # type: ignore[index]
                return

    async def securities() -> None:
        link: str | None = f"{url}/securities/v2/holders/{pid}/holdings?offset=0&limit=50"
        for _ in range(20):
            if link is None:
                return
            page = await get(link, "", None)
            nxt = page["links"]["next"]  # type: ignore[index]
            link = nxt or None  # absolute

    await asyncio.gather(
        bank(),
        get(f"{url}/vehicle/owners/{pid}/vehicles", "", None),
        securities(),
        get(f"{url}/business/api/investor?cerno={pid}", "", None),
    )


async def _bare(kind: str, url: str, ids: list[str], concurrency: int) -> float:  # noqa: C901
    """Subjects/s of a bare loop: ``concurrency`` subjects in flight, one client."""
    queue = list(reversed(ids))

    async def drive(get: Get, post: Get) -> float:
        async def worker() -> None:
            while queue:
                await _one_subject(url, queue.pop(), get, post)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(ids) / (time.perf_counter() - started)

    if kind == "httpx":
        limits = httpx.Limits(max_connections=4 * concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:

            async def hsend(method: str, u: str, body: object) -> dict[str, object]:
                for attempt in range(3):  # a pooled keep-alive socket may be closed under us
                    try:
                        response = await client.request(method, u, json=body)
                        return response.json()  # type: ignore[no-any-return]
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            async def hget(u: str, _: str, __: object) -> dict[str, object]:
                return await hsend("GET", u, None)

            async def hpost(u: str, _: str, body: object) -> dict[str, object]:
                return await hsend("POST", u, body)

            return await drive(hget, hpost)
    connector = aiohttp.TCPConnector(limit=4 * concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def aget(u: str, _: str, __: object) -> dict[str, object]:
            async with session.get(u) as response:
                return await response.json()  # type: ignore[no-any-return]

        async def apost(u: str, _: str, body: object) -> dict[str, object]:
            async with session.post(u, json=body) as response:
                return await response.json()  # type: ignore[no-any-return]

        return await drive(aget, apost)


async def _sweep(url: str, n: int, concurrency: int, rate: float) -> float:
    """Subjects/s of ``sweep.run_now`` over ``n`` fresh open cases in a throw-away database."""
    name = f"bench_sweep_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_async_engine(PG, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        from connectors.registry import build_connectors
        from enforcement import domains
        from enforcement.assets import registries, sweep
        from enforcement.cli import run_migrations
        from enforcement.core import db, jobs
        from tests.assets.helpers import bulk_cases

        database = PG.rsplit("/", 1)[0] + "/" + name
        await asyncio.to_thread(run_migrations, database)
        db.configure(database)
        domains.wire()
        jobs.set_backend(jobs.InProcessRunner())
        config = {
            reg: {"base_url": f"{url}/{reg}", "rate_limit_per_second": rate,
                  "rate_limit_burst": 1000, "max_in_flight": concurrency}
            for reg in ("bank", "vehicle", "securities", "business")
        }  # fmt: skip
        connectors = build_connectors(config)
        registries.set_connectors(connectors)
        await bulk_cases(n)
        started = time.perf_counter()
        await sweep.run_now(concurrency=concurrency)
        rate_done = n / (time.perf_counter() - started)
        await connectors.aclose()
        await db.dispose()
        return rate_done
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100_000.0, help="registry rate limit/s")
    parser.add_argument(
        "--bare-subjects",
        type=int,
        default=2000,
        help="subjects of each bare loop (a steady rate; bare httpx at 14/s would take 12 min)",
    )
    args = parser.parse_args()
    port = _free_port()
    server = _start_mocks(port, args.latency_ms)
    url = f"http://127.0.0.1:{port}"
    ids = [data.make_person_id(i) for i in range(min(args.subjects, args.bare_subjects))]
    ceiling = args.concurrency / (2 * args.latency_ms / 1000)
    print(f"subjects {args.subjects}, concurrency {args.concurrency}, latency {args.latency_ms} ms")
    print(f"  latency ceiling      {ceiling:8.0f} subjects/s (bank: submit + poll)", flush=True)
    try:
        swept = asyncio.run(_sweep(url, args.subjects, args.concurrency, args.rate))
        print(f"  sweep (run_now)      {swept:8.0f} subjects/s", flush=True)
        bare: dict[str, float] = {}
        for kind in ("aiohttp", "httpx"):
            bare[kind] = asyncio.run(_bare(kind, url, ids, args.concurrency))
            print(f"  bare {kind:<8} loop    {bare[kind]:8.0f} subjects/s ({len(ids)})", flush=True)
    finally:
        server.terminate()
        server.wait()
    print(f"  ratio to best bare   {swept / max(bare.values()):8.2f}  (goal >= 0.8)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
