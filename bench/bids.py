"""Benchmark: one hot auction over HTTP against the same bid logic straight on PostgreSQL.

    .venv/bin/python bench/bids.py [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Creates a throw-away database, migrates it, seeds five rounds with 200 registered bidders,
starts uvicorn (uvloop + httptools) in a subprocess on a free port and prints:
1. accepted bids/s with 200 concurrent bidders over HTTP (aiohttp client: httpx collapses
   above ~20 requests in flight, see performance.md) beside the same loop calling
   ``engine.place_bid`` directly with 200 tasks (the limit), and their ratio (goal ≥ 0.5);
2. p50/p99 latency at a steady offered load of 100 bids/s over HTTP (goal p99 < 50 ms);
3. invariant violations of every history (goal: zero).

``--workers N`` serves with N uvicorn worker processes (production runs several API processes
behind a load balancer); the direct baseline is unchanged (same logic, same 200 tasks). The
machine is shared: the load average is printed beside the figures, and during the steady phase
the server's PostgreSQL sessions are sampled (waiting on a lock / idle in a transaction, i.e.
a lock holder waiting for its Python process) to tell lock queueing from event-loop queueing.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auction import engine  # noqa: E402
from auction.errors import BidRefused  # noqa: E402
from auction.invariants import history_violations  # noqa: E402
from auction.models import Auction, Bidder, Lot, Registration  # noqa: E402
from enforcement.assets.models import Asset  # noqa: E402
from enforcement.cases.models import Case, Party  # noqa: E402
from enforcement.core import audit, auth, clock, db  # noqa: E402
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
            asset = Asset(
                case_id=case.id,
                party_id=party.id,
                registry_name="vehicle",
                kind="vehicle",
                registry_ref=f"bench-{r}",
                description="hot lot",
                value=START,
                currency="CNY",
                holder="被执行人",
                raw={},
                status="present",
                first_seen_at=now,
                last_seen_at=now,
            )
            s.add(asset)
            await s.flush()
            lot = Lot(
                asset_id=asset.id,
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


def start_server(url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """uvicorn with uvloop and httptools, the production serving stack."""
    env = {**os.environ, "ENFORCEMENT_DATABASE_URL": url, "ENFORCEMENT_START_MOCK_REGISTRIES": "0"}
    env.pop("ENFORCEMENT_REDIS_URL", None)
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
            "--timeout-keep-alive",
            "120",  # phases in between leave client connections idle longer than the 5 s default
            "--workers",
            str(workers),
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


Outcome = tuple[str, dict[str, Any]]
Place = Callable[[int, int], Awaitable[Outcome]]
STEPS = (1, 1, 1, 2, 2, 3)  # a realistic bidder raises by one to three increments


def next_amount(known: int | None, rng: random.Random) -> int:
    """The bid a bidder makes: the start, or the price it knows plus k × increment."""
    return START if known is None else known + rng.choice(STEPS) * STEP


def new_counts() -> dict[str, int]:
    """Outcome counters of one phase."""
    return {"accepted": 0, "refused": 0, "errors": 0}


async def bidder_loop(
    place: Place, who: int, deadline: float, counts: dict[str, int], seed: int
) -> None:
    """One bidder, identical on both sides: bid, and on ``bid_too_low`` learn the price."""
    known: int | None = None
    rng = random.Random(seed)
    while time.perf_counter() < deadline:
        amount = next_amount(known, rng)
        outcome, details = await place(who, amount)
        counts[outcome] += 1
        if outcome == "accepted":
            known = amount
        elif outcome == "refused" and details.get("current_price") is not None:
            known = int(details["current_price"])


def http_place(http: aiohttp.ClientSession, base: str, auction_id: int, tokens: list[str]) -> Place:
    """Place a bid through the API (aiohttp: httpx collapses above ~20 in flight)."""
    url = f"{base}/auctions/{auction_id}/bids"
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]

    async def place(who: int, amount: int) -> Outcome:
        body = {"amount": f"{amount // 100}.{amount % 100:02d}"}
        async with http.post(url, json=body, headers=headers[who]) as response:
            data = await response.json()
        if response.status == 201:
            return "accepted", data
        if response.status == 409 and data["error"]["code"] == "bid_too_low":
            return "refused", data["error"]["details"]
        return "errors", data

    return place


def direct_place(auction_id: int, bidder_ids: list[int], *, audited: bool = True) -> Place:
    """Place a bid straight through the engine on PostgreSQL, one unit of work per bid.

    ``audited=False`` drops the buffered audit record before the commit: the same bid without
    the audit chain, to measure what auditing costs.
    """

    async def place(who: int, amount: int) -> Outcome:
        try:
            async with db.unit_of_work() as s:
                placed = await engine.place_bid(
                    s,
                    auction_id=auction_id,
                    bidder_id=bidder_ids[who],
                    amount=amount,
                    received_at=clock.now(),
                )
                if not audited:
                    audit.discard_pending(s)
        except BidRefused as refusal:
            if refusal.code == "bid_too_low":
                return "refused", refusal.details
            return "errors", refusal.details
        return "accepted", {"seq": placed.seq}

    return place


async def closed_loop(place: Place, seconds: float) -> tuple[dict[str, int], float]:
    """BIDDERS bidders in parallel for ``seconds``: outcome counts and elapsed time."""
    counts = new_counts()
    begin = time.perf_counter()
    await asyncio.gather(
        *(bidder_loop(place, i, begin + seconds, counts, seed=i) for i in range(BIDDERS))
    )
    return counts, time.perf_counter() - begin


async def steady_load(
    place: Place, rate: float, seconds: float
) -> tuple[list[float], dict[str, int]]:
    """Offer ``rate`` bids/s (open loop) from random bidders with the same bid logic."""
    latencies: list[float] = []
    counts = new_counts()
    state: dict[str, int | None] = {"known": None}
    rng = random.Random(7)

    async def one(who: int) -> None:
        amount = next_amount(state["known"], rng)
        started = time.perf_counter()
        outcome, details = await place(who, amount)
        latencies.append(time.perf_counter() - started)
        counts[outcome] += 1
        seen = amount if outcome == "accepted" else details.get("current_price")
        if seen is not None:
            state["known"] = max(int(seen), state["known"] or 0)

    tasks = []
    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(rng.randrange(BIDDERS))))
    await asyncio.gather(*tasks)
    return latencies, counts


class CpuMeter:
    """CPU seconds used by this process and the server process during a phase."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> tuple[float, float]:
        """(client, server) CPU seconds so far (the server with its worker processes)."""
        own = os.times()
        server = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            server += int(fields[11]) + int(fields[12])
        return own.user + own.system, server / self.tick

    def _tree(self) -> list[int]:
        """The server process and its children (uvicorn ``--workers``)."""
        try:
            with open(f"/proc/{self.server_pid}/task/{self.server_pid}/children") as children:
                return [self.server_pid, *map(int, children.read().split())]
        except OSError:
            return [self.server_pid]


async def sample_sessions(url: str, stop: asyncio.Event) -> dict[str, float]:
    """Every 10 ms: the benchmark database's sessions waiting on a lock, and those idle in a
    transaction (a lock holder waiting for its Python process); returns the means."""
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    query = """
        SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
               count(*) FILTER (WHERE state = 'idle in transaction'),
               count(*) FILTER (WHERE state = 'active')
        FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
    """
    totals, samples = [0, 0, 0], 0
    try:
        while not stop.is_set():
            row = await connection.fetchrow(query)
            totals = [t + v for t, v in zip(totals, row, strict=True)]
            samples += 1
            await asyncio.sleep(0.01)
    finally:
        await connection.close()
    n = max(samples, 1)
    return {"lock": totals[0] / n, "idle_in_tx": totals[1] / n, "active": totals[2] / n}


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, counts: dict[str, int], elapsed: float, cpu: tuple[float, float]) -> float:
    """Print one closed-loop phase; returns its accepted bids/s."""
    rate = counts["accepted"] / elapsed
    requests = counts["accepted"] + counts["refused"] + counts["errors"]
    print(
        f"  {label:<44} {rate:7.1f} accepted bids/s, {requests / elapsed:6.0f} req/s "
        f"({counts['accepted']} accepted, {counts['refused']} bid_too_low, {counts['errors']} "
        f"errors; CPU client {cpu[0] / elapsed:.0%}, server {cpu[1] / elapsed:.0%})"
    )
    return rate


async def main() -> None:
    """Set up, run the measurements, check the histories, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    name, url = await create_database(args.pg)
    server = None
    try:
        db.configure(url)
        auctions, bidders = await seed(5)
        bidder_ids = [b for b, _ in bidders]
        tokens = [t for _, t in bidders]
        port = free_port()
        server = start_server(url, port, args.workers)
        base = f"http://127.0.0.1:{port}/api/v1"
        await wait_ready(base)
        meter = CpuMeter(server.pid)
        connector = aiohttp.TCPConnector(limit=BIDDERS + 10)
        async with aiohttp.ClientSession(connector=connector) as http:
            # warm-up: connections, pools and caches on both sides (a lot of its own)
            await closed_loop(http_place(http, base, auctions[4], tokens), 2)
            await closed_loop(direct_place(auctions[4], bidder_ids), 1)
            phases: dict[str, tuple[dict[str, int], float, tuple[float, float]]] = {}
            for label, place in (
                ("http", http_place(http, base, auctions[0], tokens)),
                ("direct", direct_place(auctions[1], bidder_ids)),
                ("direct_unaudited", direct_place(auctions[2], bidder_ids, audited=False)),
            ):
                before = meter.sample()
                counts, elapsed = await closed_loop(place, args.seconds)
                after = meter.sample()
                phases[label] = (counts, elapsed, (after[0] - before[0], after[1] - before[1]))
            before = meter.sample()
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_sessions(url, stop))
            latencies, steady = await steady_load(
                http_place(http, base, auctions[3], tokens), args.rate, args.seconds
            )
            after = meter.sample()
            stop.set()
            sessions = await sampler
        violations = {}
        async with db.unit_of_work() as s:
            for auction_id in auctions:
                violations[auction_id] = await history_violations(s, auction_id)
        print(
            f"hot lot, {BIDDERS} concurrent bidders, {args.seconds:.0f} s per phase; server: "
            f"{args.workers} uvicorn worker process{'es' if args.workers > 1 else ''}; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
            f"({os.cpu_count()} CPUs, shared machine)"
        )
        h_rate = report(
            f"HTTP (uvicorn x{args.workers} uvloop+httptools, aiohttp)", *phases["http"]
        )
        d_rate = report("direct engine on PostgreSQL (the limit)", *phases["direct"])
        u_rate = report("direct engine, bids not audited", *phases["direct_unaudited"])
        print(f"  ratio HTTP / direct: {h_rate / d_rate:.2f} (goal >= 0.5)")
        print(f"  audit cost: direct audited / unaudited = {d_rate / u_rate:.2f}")
        print(
            f"steady offered load {args.rate:.0f} bids/s over HTTP for {args.seconds:.0f} s: "
            f"{steady['accepted']} accepted, {steady['refused']} bid_too_low, "
            f"{steady['errors']} errors; server CPU "
            f"{(after[1] - before[1]) / args.seconds:.0%} "
            f"({(after[1] - before[1]) / max(len(latencies), 1) * 1000:.1f} ms per request)"
        )
        print(
            f"  latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(latencies) * 1000:.1f} ms (goal p99 < 50 ms)"
        )
        print(
            f"  PostgreSQL sessions, mean over the phase: {sessions['lock']:.2f} waiting on a "
            f"lock, {sessions['idle_in_tx']:.2f} idle in a transaction (waiting for the API "
            f"process), {sessions['active']:.2f} active"
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
