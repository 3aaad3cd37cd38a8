"""Benchmark of the lists' read side on PostgreSQL: export throughput and screening latency.

Loads N listings (default one million) into a throw-away database with asyncpg
``copy_records_to_table``, serves the real app with uvicorn (uvloop + httptools) in a
subprocess, then prints, each beside its baseline measured in the same run:
- ``GET /export`` rows/s over HTTP, and the export generator alone, against PostgreSQL's own
  ``COPY ... TO STDOUT`` of the same table (the limit); goal ≥ 0.3 of it;
- ``POST /screen`` by ID number: lookups/s and p50/p99 latency at 1 and 8 in flight
  (goal p99 < 10 ms), beside the bare indexed lookup through asyncpg.
The bench database is dropped at the end.

    .venv/bin/python bench/feed.py [--rows N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enforcement.core.identifiers import make_resident_id  # noqa: E402

CASES = 1000
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def ids(n: int) -> Iterator[str]:
    """``n`` distinct valid resident IDs (region × birth date × sequence)."""
    base = dt.date(1950, 1, 1)
    count = 0
    for region in range(620100, 629999, 1):
        for day in range(0, 20000, 7):
            for seq in range(0, 1000, 97):
                yield make_resident_id(str(region), base + dt.timedelta(days=day), seq)
                count += 1
                if count >= n:
                    return


def record(listing_id: int, case_id: int, name: str, id_number: str) -> str:
    """A stored record shaped like the service writes it."""
    return json.dumps(
        {
            "subject_kind": "person",
            "name": name,
            "id_number": id_number,
            "credit_code": None,
            "sex": "male",
            "birth_year": int(id_number[6:10]),
            "legal_representative": None,
            "legal_representative_id_number": None,
            "case_id": case_id,
            "case_number": f"（2026）甘0602执{case_id}号",
            "court_code": "甘0602",
            "filed_on": "2026-03-02",
            "basis": f"（2025）甘0602民初{case_id}号",
            "id": listing_id,
            "version": 1,
            "kind": "restricted",
            "status": "active",
            "grounds": [],
            "implied_by_id": None,
            "starts_on": "2026-03-02",
            "ends_on": None,
            "removal_reason": None,
            "removed_at": None,
            "deletion_deadline": None,
            "updated_at": T0.isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


async def load(dsn: str, rows: int) -> list[str]:
    """COPY cases, parties, listings and their change log; returns the ID numbers."""
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        id_numbers = list(ids(rows))
        today = T0.date()
        await connection.copy_records_to_table(
            "parties",
            records=[(1, "organization", "某银行", None, None, None, None, None, T0)],
            columns=[
                "id",
                "kind",
                "name",
                "id_number",
                "credit_code",
                "birth_date",
                "legal_representative",
                "legal_representative_id_number",
                "created_at",
            ],
        )
        await connection.copy_records_to_table(
            "cases",
            records=[
                (
                    c,
                    f"（2026）甘0602执{c}号",
                    "甘0602",
                    today,
                    "判决",
                    100_00,
                    50_00,
                    100_00,
                    0,
                    dt.date(2026, 9, 2),
                    "open",
                    1,
                    T0,
                    T0,
                )
                for c in range(1, CASES + 1)
            ],
            columns=[
                "id",
                "case_number",
                "court_code",
                "filed_on",
                "basis",
                "principal",
                "fee",
                "outstanding",
                "fee_paid",
                "deadline",
                "status",
                "applicant_id",
                "created_at",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "parties",
            records=(
                (i + 2, "person", f"债务人{i}", n, None, None, None, None, T0)
                for i, n in enumerate(id_numbers)
            ),
            columns=[
                "id",
                "kind",
                "name",
                "id_number",
                "credit_code",
                "birth_date",
                "legal_representative",
                "legal_representative_id_number",
                "created_at",
            ],
        )
        records = [record(i + 1, i % CASES + 1, f"债务人{i}", n) for i, n in enumerate(id_numbers)]
        await connection.copy_records_to_table(
            "listings",
            records=(
                (
                    i + 1,
                    i % CASES + 1,
                    i + 2,
                    "甘0602",
                    "restricted",
                    "[]",
                    None,
                    "person",
                    f"债务人{i}",
                    f"债务人{i}",
                    n,
                    None,
                    None,
                    None,
                    None,
                    today,
                    None,
                    "active",
                    None,
                    None,
                    None,
                    None,
                    None,
                    1,
                    records[i],
                    T0,
                    T0,
                )
                for i, n in enumerate(id_numbers)
            ),
            columns=[
                "id",
                "case_id",
                "party_id",
                "court_code",
                "kind",
                "grounds",
                "implied_by_id",
                "subject_kind",
                "name",
                "name_norm",
                "id_number",
                "credit_code",
                "legal_representative",
                "rep_name_norm",
                "legal_representative_id_number",
                "starts_on",
                "ends_on",
                "status",
                "removal_reason",
                "removal_note",
                "removal_trigger_on",
                "deletion_deadline",
                "removed_at",
                "version",
                "record",
                "created_at",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "listing_changes",
            records=((i + 1, i + 1, 1, "listed", None, r, T0) for i, r in enumerate(records)),
            columns=["seq", "listing_id", "version", "type", "reason", "record", "at"],
        )
        await connection.execute(
            "INSERT INTO listing_feed_counter (id, last_seq) VALUES (1, $1)", rows
        )
        for table in ("parties", "cases", "listings"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), $1)", rows + 2
            )
        await connection.execute("ANALYZE")
        print(f"loaded {rows:,} listings in {time.perf_counter() - started:.1f} s (COPY)")
        return id_numbers
    finally:
        await connection.close()


async def copy_rate(dsn: str, query: str | None) -> float:
    """Rows/s of PostgreSQL's own COPY ... TO STDOUT, read by asyncpg (the limit)."""
    connection = await asyncpg.connect(dsn)
    lines = 0

    async def sink(chunk: bytes) -> None:
        nonlocal lines
        lines += chunk.count(b"\n")

    try:
        started = time.perf_counter()
        if query is None:
            await connection.copy_from_table("listings", output=sink)
        else:
            await connection.copy_from_query(query, output=sink)
        return lines / (time.perf_counter() - started)
    finally:
        await connection.close()


async def http_export_rate(base: str, headers: dict[str, str]) -> tuple[float, int]:
    """Rows/s of GET /export over HTTP, and the X-Feed-Seq it announced."""
    lines = 0
    async with httpx.AsyncClient(timeout=600) as client:
        started = time.perf_counter()
        async with client.stream("GET", f"{base}/export", headers=headers) as response:
            response.raise_for_status()
            seq = int(response.headers["X-Feed-Seq"])
            async for chunk in response.aiter_raw(1 << 20):
                lines += chunk.count(b"\n")
        return lines / (time.perf_counter() - started), seq


async def generator_rate(sa_url: str) -> float:
    """Rows/s of the export generator alone (no HTTP)."""
    from blacklist.feed import ExportSnapshot
    from enforcement.core.db import make_engine

    engine = make_engine(sa_url)
    try:
        lines = 0
        started = time.perf_counter()
        snapshot = await ExportSnapshot.open(engine)
        async for chunk in snapshot.lines():
            lines += chunk.count(b"\n")
        return lines / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def screening(
    base: str, headers: dict[str, str], id_numbers: list[str], calls: int, in_flight: int
) -> dict[str, float]:
    """POST /screen by ID number: throughput and latency percentiles."""
    latencies: list[float] = []
    picks = [id_numbers[(i * 7919) % len(id_numbers)] for i in range(calls)]
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        for warm in picks[:20]:
            await client.post("/screen", json={"id_number": warm})
        queue = iter(picks)

        async def worker() -> None:
            for id_number in queue:
                started = time.perf_counter()
                response = await client.post("/screen", json={"id_number": id_number})
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
                assert response.json()["restricted"], response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rate": calls / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def bare_lookup(dsn: str, id_numbers: list[str], calls: int) -> dict[str, float]:
    """The indexed lookup alone through asyncpg (the floor of a screening call)."""
    connection = await asyncpg.connect(dsn)
    latencies = []
    try:
        statement = await connection.prepare(
            "SELECT record FROM listings WHERE status = 'active' AND id_number = $1"
        )
        for i in range(calls):
            started = time.perf_counter()
            await statement.fetch(id_numbers[(i * 7919) % len(id_numbers)])
            latencies.append(time.perf_counter() - started)
    finally:
        await connection.close()
    latencies.sort()
    return {"rate": calls / sum(latencies), "p99": latencies[int(calls * 0.99) - 1] * 1000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def make_token(sa_url: str) -> str:
    from enforcement.core import auth, db

    db.configure(sa_url)
    try:
        async with db.unit_of_work() as session:
            _, token = await auth.create_token(session, role="credit", name="bench")
        return token
    finally:
        await db.dispose()


def serve(sa_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENFORCEMENT_DATABASE_URL": sa_url,
        "ENFORCEMENT_START_MOCK_REGISTRIES": "false",
        "ENFORCEMENT_CREDIT_RATE_LIMIT_PER_MINUTE": "1000000000",
    }
    env.pop("ENFORCEMENT_REDIS_URL", None)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "enforcement.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT)


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not start")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    admin_dsn = args.pg
    name = f"enf_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    server: subprocess.Popen[bytes] | None = None
    try:
        from enforcement.cli import run_migrations

        await asyncio.to_thread(run_migrations, sa_url)
        id_numbers = await load(dsn, args.rows)
        token = await make_token(sa_url)
        port = free_port()
        server = serve(sa_url, port)
        base = f"http://127.0.0.1:{port}/api/v1"
        await wait_ready(base)
        headers = {"Authorization": f"Bearer {token}"}
        runs = []
        for _ in range(args.repeat):
            copy_table = await copy_rate(dsn, None)  # COPY listings TO STDOUT
            copy_records = await copy_rate(
                dsn, "SELECT record FROM listings WHERE status = 'active' ORDER BY id"
            )
            http_rate, seq = await http_export_rate(base, headers)
            gen_rate = await generator_rate(sa_url)
            runs.append((copy_table, copy_records, http_rate, gen_rate))
        copy_table, copy_records, http_rate, gen_rate = (
            statistics.median(c) for c in zip(*runs, strict=True)
        )
        print(f"\nexport of {args.rows:,} listings (median of {args.repeat}; X-Feed-Seq {seq:,})")
        print(f"  COPY listings TO STDOUT (limit)        {copy_table:>12,.0f} rows/s")
        print(f"  COPY (SELECT record …) TO STDOUT        {copy_records:>12,.0f} rows/s")
        print(
            f"  GET /export over HTTP (uvicorn)         {http_rate:>12,.0f} rows/s  "
            f"ratio {http_rate / copy_table:.2f} of COPY table, "
            f"{http_rate / copy_records:.2f} of COPY records  (goal ≥ 0.30)"
        )
        print(
            f"  export generator alone                  {gen_rate:>12,.0f} rows/s  "
            f"ratio {gen_rate / copy_table:.2f}"
        )
        bare = await bare_lookup(dsn, id_numbers, args.calls)
        print(f"\nscreening by ID number ({args.calls:,} calls)")
        print(
            f"  bare indexed lookup (asyncpg)           {bare['rate']:>10,.0f} /s  "
            f"p99 {bare['p99']:.2f} ms"
        )
        results: dict[str, Any] = {"copy": copy_table, "http_export": http_rate}
        for in_flight in (1, 8):
            stats = await screening(base, headers, id_numbers, args.calls, in_flight)
            results[f"screen_{in_flight}"] = stats
            print(
                f"  POST /screen, {in_flight} in flight               {stats['rate']:>10,.0f} /s  "
                f"p50 {stats['p50']:.2f} ms  p99 {stats['p99']:.2f} ms  (goal p99 < 10 ms)"
            )
        return results
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        print(f"\ndropped {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(main(parser.parse_args()))
