"""Benchmark: one hot auction over HTTP against the same bid logic straight on PostgreSQL.

    .venv/bin/python bench/bids.py [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Creates a throw-away database, migrates it, seeds three rounds with 200 registered bidders,
starts uvicorn (uvloop + httptools) in a subprocess on a free port and prints:
1. accepted bids/s with 200 concurrent bidders over HTTP (aiohttp client: httpx collapses
   above ~20 requests in flight, see performance.md) beside the same loop calling
   ``engine.place_bid`` directly with 200 tasks (the limit), and their ratio (goal ≥ 0.5);
2. p50/p99 latency at a steady offered load of 100 bids/s over HTTP (goal p99 < 50 ms);
3. invariant violations of every history (goal: zero).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auction import engine  # noqa: E402
from auction.errors import BidRefused  # noqa: E402
from auction.invariants import history_violations  # noqa: E402
from auction.models import Auction, Bidder, Lot, Registration  # noqa: E402
from enforcement.assets.models import Asset, Freeze  # noqa: E402
from enforcement.cases.models import Case, Party  # noqa: E402
from enforcement.core import auth, clock, db  # noqa: E402
from enforcement.core.identifiers import make_resident_id  # noqa: E402

BIDDERS = 200
START, STEP = 1_000_000_00, 1_000_00


async def create_database(admin_url: str) -> tuple[str, str]:
    """A fresh database on the server, migrated to head."""
    from enforcement.cli import run_migrations

    name = f"enf_bench_{secrets.token_hex(3)}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(run_migrations, url)
    return name, url


async def drop_database(admin_url: str, name: str) -> None:
    """Remove the throw-away database."""
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def seed(rounds: int) -> tuple[list[int], list[tuple[int, str]]]:
    """``rounds`` open auctions of one case, 200 bidders registered in each, bidder tokens."""
    async with db.get_engine().begin() as connection:
        present = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        if "assets" not in present:  # the assets migration may still be empty
            await connection.run_sync(
                lambda c: Asset.metadata.create_all(c, tables=[Asset.__table__, Freeze.__table__])
            )
    now = clock.now()
    async with db.unit_of_work() as s:
        party = Party(
            kind="person",
            name="被执行人",
            id_number=make_resident_id("620602", dt.date(1970, 1, 1), 1),
            created_at=now,
        )
        applicant = Party(
            kind="person",
            name="申请人",
            id_number=make_resident_id("620602", dt.date(1970, 1, 1), 2),
            created_at=now,
        )
        s.add_all([party, applicant])
        await s.flush()
        case = Case(
            case_number="（2026）甘0602执1号",
            court_code="甘0602",
            filed_on=now.date(),
            basis="b",
            principal=10**12,
            fee=0,
            outstanding=10**12,
            fee_paid=0,
            deadline=now.date(),
            status="open",
            applicant_id=applicant.id,
            created_at=now,
            updated_at=now,
        )
        s.add(case)
        await s.flush()
        bidders = [
            Bidder(
                kind="person",
                name=f"竞买人{i}",
                id_number=make_resident_id("620602", dt.date(1990, 1, 1), i),
                phone="13800000000",
                barred=False,
                created_at=now,
            )
            for i in range(BIDDERS)
        ]
        s.add_all(bidders)
        await s.flush()
        auction_ids = []
        for r in range(rounds):
            lot = Lot(
                asset_id=r + 1,
                case_id=case.id,
                court_code="甘0602",
                kind="vehicle",
                description="hot lot",
                appraisal_price=START,
                status="active",
                created_at=now,
            )
            s.add(lot)
            await s.flush()
            auction = Auction(
                lot_id=lot.id,
                round=1,
                court_code="甘0602",
                status="open",
                starting_price=START,
                deposit=START // 10,
                increment=STEP,
                announced_at=now - dt.timedelta(days=20),
                starts_at=now - dt.timedelta(hours=1),
                scheduled_end=now + dt.timedelta(days=1),
                ends_at=now + dt.timedelta(days=1),
                bid_count=0,
                created_at=now,
                updated_at=now,
            )
            s.add(auction)
            await s.flush()
            auction_ids.append(auction.id)
            for i, b in enumerate(bidders):
                s.add(
                    Registration(
                        auction_id=auction.id,
                        bidder_id=b.id,
                        code=f"{i:04X}",
                        deposit=START // 10,
                        payment_reference=f"p{r}-{i}",
                        status="held",
                        paid_at=now,
                    )
                )
        tokens = []
        for b in bidders:
            _, token = await auth.create_token(s, role="bidder", name=b.name, subject_id=b.id)
            tokens.append((b.id, token))
    return auction_ids, tokens


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    """uvicorn with uvloop and httptools, the production serving stack."""
    env = {**os.environ, "ENFORCEMENT_DATABASE_URL": url, "ENFORCEMENT_REDIS_URL": ""}
    env.pop("ENFORCEMENT_REDIS_URL")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "enforcement.app:create_app",
            "--factory",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )


async def wait_ready(base: str) -> None:
    """Poll the health endpoint until the server answers."""
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def http_loop(
    http: aiohttp.ClientSession,
    base: str,
    auction_id: int,
    token: str,
    deadline: float,
    counts: dict[str, int],
) -> None:
    """One bidder over HTTP: bid the minimum it knows, learn the new one, repeat."""
    minimum, rng = START, random.Random(token)
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < deadline:
        amount = minimum + rng.choice((0, 0, 1)) * STEP
        body = {"amount": f"{amount // 100}.{amount % 100:02d}"}
        async with http.post(
            f"{base}/auctions/{auction_id}/bids", json=body, headers=headers
        ) as response:
            data = await response.json()
        if response.status == 201:
            counts["accepted"] += 1
            minimum = amount + STEP
        elif response.status == 409 and "minimum_bid" in data["error"]["details"]:
            counts["refused"] += 1
            minimum = data["error"]["details"]["minimum_bid"]
        else:
            counts["errors"] += 1


async def direct_loop(
    auction_id: int, bidder_id: int, deadline: float, counts: dict[str, int]
) -> None:
    """The same bidder logic straight against PostgreSQL (one unit of work per bid)."""
    minimum, rng = START, random.Random(bidder_id)
    while time.perf_counter() < deadline:
        amount = minimum + rng.choice((0, 0, 1)) * STEP
        try:
            async with db.unit_of_work() as s:
                await engine.place_bid(
                    s,
                    auction_id=auction_id,
                    bidder_id=bidder_id,
                    amount=amount,
                    received_at=clock.now(),
                )
            counts["accepted"] += 1
            minimum = amount + STEP
        except BidRefused as refusal:
            counts["refused"] += 1
            minimum = refusal.details["minimum_bid"]


async def steady_load(
    http: aiohttp.ClientSession,
    base: str,
    auction_id: int,
    tokens: list[tuple[int, str]],
    rate: float,
    seconds: float,
) -> tuple[list[float], dict[str, int]]:
    """Offer ``rate`` bids/s (open loop) from random bidders; latency of every request."""
    latencies: list[float] = []
    counts = {"accepted": 0, "refused": 0, "errors": 0}
    state = {"minimum": START}

    async def one(token: str) -> None:
        amount = state["minimum"]
        body = {"amount": f"{amount // 100}.{amount % 100:02d}"}
        started = time.perf_counter()
        async with http.post(
            f"{base}/auctions/{auction_id}/bids",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            data = await response.json()
        latencies.append(time.perf_counter() - started)
        if response.status == 201:
            counts["accepted"] += 1
            state["minimum"] = max(state["minimum"], amount + STEP)
        elif response.status == 409:
            counts["refused"] += 1
            state["minimum"] = max(state["minimum"], data["error"]["details"]["minimum_bid"])
        else:
            counts["errors"] += 1

    tasks = []
    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(random.choice(tokens)[1])))
    await asyncio.gather(*tasks)
    return latencies, counts


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    """Set up, run the three measurements, check the histories, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()

    name, url = await create_database(args.pg)
    server = None
    try:
        db.configure(url)
        auctions, tokens = await seed(3)
        port = free_port()
        server = start_server(url, port)
        base = f"http://127.0.0.1:{port}/api/v1"
        await wait_ready(base)
        connector = aiohttp.TCPConnector(limit=BIDDERS + 10)
        async with aiohttp.ClientSession(connector=connector) as http:
            # warm-up: connections and caches on both sides (on the steady-load lot)
            warm = {"accepted": 0, "refused": 0, "errors": 0}
            await asyncio.gather(
                *(
                    http_loop(http, base, auctions[2], t, time.perf_counter() + 1, warm)
                    for _, t in tokens[:50]
                )
            )
            latencies, steady = await steady_load(
                http, base, auctions[2], tokens, args.rate, args.seconds
            )
            results: dict[str, Any] = {}
            http_counts = {"accepted": 0, "refused": 0, "errors": 0}
            begin = time.perf_counter()
            deadline = begin + args.seconds
            await asyncio.gather(
                *(http_loop(http, base, auctions[0], t, deadline, http_counts) for _, t in tokens)
            )
            results["http"] = (http_counts, time.perf_counter() - begin)
            direct_counts = {"accepted": 0, "refused": 0, "errors": 0}
            begin = time.perf_counter()
            deadline = begin + args.seconds
            await asyncio.gather(
                *(direct_loop(auctions[1], b, deadline, direct_counts) for b, _ in tokens)
            )
            results["direct"] = (direct_counts, time.perf_counter() - begin)
        violations = {}
        async with db.unit_of_work() as s:
            for auction_id in auctions:
                violations[auction_id] = await history_violations(s, auction_id)
        h_rate = results["http"][0]["accepted"] / results["http"][1]
        d_rate = results["direct"][0]["accepted"] / results["direct"][1]
        h, d = results["http"][0], results["direct"][0]
        print(f"hot lot, {BIDDERS} concurrent bidders, {args.seconds:.0f} s each")
        print(
            f"  HTTP (uvicorn uvloop+httptools, aiohttp client): {h_rate:8.1f} accepted bids/s "
            f"({h['accepted']} accepted, {h['refused']} refused, {h['errors']} errors, "
            f"{(h['accepted'] + h['refused']) / results['http'][1]:.0f} req/s)"
        )
        print(
            f"  direct engine on PostgreSQL (the limit):        {d_rate:8.1f} accepted bids/s "
            f"({d['accepted']} accepted, {d['refused']} refused)"
        )
        print(f"  ratio HTTP / direct: {h_rate / d_rate:.2f} (goal >= 0.5)")
        print(
            f"steady offered load {args.rate:.0f} bids/s over HTTP for {args.seconds:.0f} s: "
            f"{steady['accepted']} accepted, {steady['refused']} refused, "
            f"{steady['errors']} errors"
        )
        print(
            f"  latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(latencies) * 1000:.1f} ms (goal p99 < 50 ms)"
        )
        total = sum(len(v) for v in violations.values())
        print(f"invariant violations: {total} {violations if total else ''}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        await db.dispose()
        await drop_database(args.pg, name)


if __name__ == "__main__":
    asyncio.run(main())
