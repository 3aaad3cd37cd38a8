"""Benchmark of the lists' read side on PostgreSQL: export throughput and screening latency.

Loads N listings (default one million) into a throw-away database in SQL (``generate_series``,
check characters computed by the server: no row crosses the wire), serves the real app with
uvicorn (uvloop + httptools) in a subprocess, then prints, each beside its baseline measured
in the same run:
- ``GET /export`` rows/s over HTTP against PostgreSQL's own ``COPY (SELECT record …) TO STDOUT``
  of the same rows and column the export emits (the honest limit; goal ≥ 0.3 of it), with
  ``COPY listings TO STDOUT`` (every column) for reference;
- ``POST /screen`` by ID number: lookups/s and p50/p99 latency at 1 and 8 in flight
  (goal p99 < 10 ms) with an aiohttp client (httpx's pool collapses with many in flight),
  beside the bare indexed lookup through asyncpg and ``GET /healthz`` (framework floor).
The bench database is dropped at the end.

    .venv/bin/python bench/feed.py [--rows N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enforcement.core.identifiers import validate_resident_id  # noqa: E402

CASES = 1000
EXPORT_QUERY = "SELECT record FROM listings WHERE status = 'active' ORDER BY id"

# The first 17 digits: region 620602, a birth date from 1950 on, a 3-digit sequence; then the
# ISO 7064 MOD 11-2 check character, all computed by PostgreSQL.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_SUM = "\n    + ".join(
    f"substr(first17, {k}, 1)::int * {w}" for k, w in enumerate(_WEIGHTS, start=1)
)
_IDS_SQL = f"""
CREATE UNLOGGED TABLE bench_ids AS
SELECT i, first17 || substr('10X98765432', ({_CHECK_SUM}) % 11 + 1, 1) AS id_number
FROM (
  SELECT i, '620602' || to_char(date '1950-01-01' + i / 100, 'YYYYMMDD')
            || lpad((i % 100)::text, 3, '0') AS first17
  FROM generate_series(0, $1::int - 1) AS i
) AS g
"""

_LOAD_SQL = [
    """INSERT INTO parties (id, kind, name, created_at)
       VALUES (1, 'organization', '某银行', '2026-03-02T01:00:00Z')""",
    """INSERT INTO cases (id, case_number, court_code, filed_on, basis, principal, fee,
                          outstanding, fee_paid, deadline, status, applicant_id,
                          created_at, updated_at)
       SELECT c, '（2026）甘0602执' || c || '号', '甘0602', date '2026-03-02',
              '（2025）甘0602民初' || c || '号', 10000, 5000, 10000, 0, date '2026-09-02',
              'open', 1, timestamptz '2026-03-02T01:00:00Z', timestamptz '2026-03-02T01:00:00Z'
       FROM generate_series(1, %(cases)d) AS c""",
    """INSERT INTO parties (id, kind, name, id_number, created_at)
       SELECT i + 2, 'person', '债务人' || i, id_number, timestamptz '2026-03-02T01:00:00Z'
       FROM bench_ids""",
    """INSERT INTO listings (id, case_id, party_id, court_code, kind, grounds, subject_kind,
                             name, name_norm, id_number, starts_on, status,
                             version, record, created_at, updated_at)
       SELECT i + 1, i %% %(cases)d + 1, i + 2, '甘0602', 'restricted', '[]', 'person',
              '债务人' || i, '债务人' || i, id_number, date '2026-03-02', 'active', 1,
              json_build_object(
                'subject_kind', 'person', 'name', '债务人' || i, 'id_number', id_number,
                'credit_code', NULL,
                'sex', CASE WHEN substr(id_number, 17, 1)::int %% 2 = 1
                            THEN 'male' ELSE 'female' END,
                'birth_year', substr(id_number, 7, 4)::int,
                'legal_representative', NULL, 'legal_representative_id_number', NULL,
                'related_persons', json_build_array(),
                'case_id', i %% %(cases)d + 1,
                'case_number', '（2026）甘0602执' || (i %% %(cases)d + 1) || '号',
                'court_code', '甘0602', 'filed_on', '2026-03-02',
                'basis', '（2025）甘0602民初' || (i %% %(cases)d + 1) || '号',
                'id', i + 1, 'version', 1, 'kind', 'restricted', 'status', 'active',
                'grounds', json_build_array(), 'implied_by_id', NULL,
                'starts_on', '2026-03-02', 'ends_on', NULL, 'removal_reason', NULL,
                'removed_at', NULL, 'deletion_deadline', NULL,
                'updated_at', '2026-03-02T01:00:00+00:00')::text,
              timestamptz '2026-03-02T01:00:00Z', timestamptz '2026-03-02T01:00:00Z'
       FROM bench_ids""",
    """INSERT INTO listing_changes (seq, listing_id, version, type, record, at)
       SELECT id, id, 1, 'listed', record, created_at FROM listings""",
    "INSERT INTO listing_feed_counter (id, last_seq) SELECT 1, count(*) FROM listings",
    "SELECT setval(pg_get_serial_sequence('parties', 'id'), (SELECT max(id) FROM parties))",
    "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))",
    "SELECT setval(pg_get_serial_sequence('listings', 'id'), (SELECT max(id) FROM listings))",
    "DROP TABLE bench_ids",
]


async def load(dsn: str, rows: int) -> None:
    """Generate cases, parties, listings and their change log inside PostgreSQL."""
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.execute("SET synchronous_commit TO OFF")
        # bulk load: skip the per-row foreign key triggers (the generated keys are consistent)
        await connection.execute("SET session_replication_role = replica")
        await connection.execute(_IDS_SQL.replace("$1::int", str(int(rows))))
        # secondary indexes are built once after the load, not row by row during it
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('listings', 'parties', 'listing_changes') AND indexname NOT LIKE 'pk_%'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        if await connection.fetchval(  # newer schemas: a column without a server default
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'listings' AND column_name = 'aggravated'"
        ):
            await connection.execute(
                "ALTER TABLE listings ALTER COLUMN aggravated SET DEFAULT false"
            )
        for sql in _LOAD_SQL:
            await connection.execute(sql % {"cases": CASES} if "%(" in sql else sql)
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.execute("SET session_replication_role = DEFAULT")
        await connection.execute("VACUUM ANALYZE listings")
        await connection.execute("ANALYZE")
        sample = await connection.fetch(
            "SELECT id_number FROM listings ORDER BY random() LIMIT 200"
        )
        for row in sample:  # the server-computed check characters are the real ones
            validate_resident_id(row[0])
        print(f"loaded {rows:,} listings in {time.perf_counter() - started:.1f} s (SQL)")
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


async def http_export_rate(base: str, headers: dict[str, str], rows: int) -> tuple[float, int]:
    """Rows/s of GET /export over HTTP (every line checked to be counted), and X-Feed-Seq."""
    lines = 0
    first = b""
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        started = time.perf_counter()
        async with client.get(f"{base}/export", headers=headers) as response:
            assert response.status == 200, await response.text()
            seq = int(response.headers["X-Feed-Seq"])
            async for chunk in response.content.iter_chunked(1 << 20):
                if not first:
                    first = chunk[: chunk.index(b"\n")]
                lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
    assert lines == rows, (lines, rows)
    assert json.loads(first)["id"] == 1
    return lines / elapsed, seq


async def latency_run(
    base: str,
    headers: dict[str, str],
    requests: list[tuple[str, str, Any]],
    in_flight: int,
    check: Any,
) -> dict[str, float]:
    """Throughput and p50/p99 of ``requests`` with ``in_flight`` workers (aiohttp)."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as client:
        for method, path, body in requests[:50]:  # warm the pool and the server's caches
            async with client.request(method, path, json=body) as response:
                await response.read()
        queue = iter(requests)

        async def worker() -> None:
            for method, path, body in queue:
                started = time.perf_counter()
                async with client.request(method, path, json=body) as response:
                    payload = await response.read()
                latencies.append(time.perf_counter() - started)
                assert response.status == 200, payload
                check(payload)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rate": len(requests) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def _restricted(payload: bytes) -> None:
    assert json.loads(payload)["restricted"] is True, payload


async def bare_lookup(dsn: str, id_numbers: list[str]) -> dict[str, float]:
    """The indexed lookup alone through asyncpg (the floor of a screening call)."""
    connection = await asyncpg.connect(dsn)
    latencies = []
    try:
        statement = await connection.prepare(
            "SELECT record FROM listings WHERE status = 'active' AND id_number = $1"
        )
        for id_number in id_numbers:
            started = time.perf_counter()
            await statement.fetch(id_number)
            latencies.append(time.perf_counter() - started)
    finally:
        await connection.close()
    latencies.sort()
    return {
        "rate": len(latencies) / sum(latencies),
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


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
    """uvicorn with uvloop and httptools, one worker process."""
    env = {
        **os.environ,
        "ENFORCEMENT_DATABASE_URL": sa_url,
        "ENFORCEMENT_START_MOCK_REGISTRIES": "false",
        "ENFORCEMENT_CREDIT_RATE_LIMIT_PER_MINUTE": "1000000000",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
    }
    env.pop("ENFORCEMENT_REDIS_URL", None)
    factory = "enforcement.app:create_app"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
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
    async with aiohttp.ClientSession() as client:
        for _ in range(300):
            try:
                async with client.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not start")


async def screening_runs(
    base: str, headers: dict[str, str], id_numbers: list[str], label: str
) -> dict[str, Any]:
    """POST /screen by ID number at 1 and 8 in flight, and GET /healthz as the floor."""
    results: dict[str, Any] = {}
    screens = [("POST", "/api/v1/screen", {"id_number": n}) for n in id_numbers]
    health = [("GET", "/api/v1/healthz", None)] * len(id_numbers)
    for in_flight in (1, 8):
        floor = await latency_run(base, headers, health, in_flight, lambda _: None)
        stats = await latency_run(base, headers, screens, in_flight, _restricted)
        results[f"screen_{in_flight}"] = stats
        results[f"healthz_{in_flight}"] = floor
        print(
            f"  {label}POST /screen, {in_flight} in flight  {stats['rate']:>8,.0f} /s  "
            f"p50 {stats['p50']:.2f} ms  p99 {stats['p99']:.2f} ms  (goal p99 < 10 ms)"
        )
        print(
            f"  {label}GET /healthz, {in_flight} in flight  {floor['rate']:>8,.0f} /s  "
            f"p50 {floor['p50']:.2f} ms  p99 {floor['p99']:.2f} ms  (framework + 1 query)"
        )
    return results


async def main(args: argparse.Namespace) -> dict[str, Any]:
    admin_dsn = args.pg
    name = f"enf_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    server: subprocess.Popen[bytes] | None = None
    results: dict[str, Any] = {}
    try:
        from enforcement.cli import run_migrations

        await asyncio.to_thread(run_migrations, sa_url)
        await load(dsn, args.rows)
        token = await make_token(sa_url)
        port = free_port()
        server = serve(sa_url, port)
        root = f"http://127.0.0.1:{port}"
        await wait_ready(f"{root}/api/v1")
        headers = {"Authorization": f"Bearer {token}"}
        runs = []
        seq = 0
        for _ in range(args.repeat):
            copy_table = await copy_rate(dsn, None)
            copy_same = await copy_rate(dsn, EXPORT_QUERY)
            http_rate, seq = await http_export_rate(f"{root}/api/v1", headers, args.rows)
            runs.append((copy_table, copy_same, http_rate))
        copy_table, copy_same, http_rate = (statistics.median(c) for c in zip(*runs, strict=True))
        print(f"\nexport of {args.rows:,} listings (median of {args.repeat}; X-Feed-Seq {seq:,})")
        print(f"  COPY (SELECT record …) TO STDOUT (limit) {copy_same:>12,.0f} rows/s")
        print(f"  COPY listings TO STDOUT (all columns)    {copy_table:>12,.0f} rows/s")
        print(
            f"  GET /export over HTTP (uvicorn)          {http_rate:>12,.0f} rows/s  "
            f"ratio {http_rate / copy_same:.2f} of the same COPY (goal ≥ 0.30), "
            f"{http_rate / copy_table:.2f} of COPY table"
        )
        results.update(copy_same=copy_same, copy_table=copy_table, http_export=http_rate)

        probe = await asyncpg.connect(dsn)
        try:
            picked = await probe.fetch(
                "SELECT id_number FROM listings ORDER BY random() LIMIT $1", args.calls
            )
        finally:
            await probe.close()
        id_numbers = [row[0] for row in picked]
        bare = await bare_lookup(dsn, id_numbers)
        results["bare"] = bare
        print(f"\nscreening by ID number ({args.calls:,} calls, aiohttp client)")
        print(
            f"  bare indexed lookup (asyncpg)       {bare['rate']:>8,.0f} /s  "
            f"p50 {bare['p50']:.2f} ms  p99 {bare['p99']:.2f} ms"
        )
        results.update(await screening_runs(root, headers, id_numbers, ""))
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
