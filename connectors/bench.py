"""Which transport should ``RegistryClient`` use? ``python -m connectors.bench``.

Starts the mock registries in a separate process (uvicorn), adds a fixed latency per request,
and measures requests/s of ``RegistryClient`` over httpx and over the aiohttp transport at
several concurrencies, next to a bare aiohttp loop and the latency ceiling
(concurrency ÷ latency), as ``performance.md`` asks. Single runs on a shared machine: read
the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp

from connectors.http import RegistryClient
from connectors.mock.data import find_identifier
from connectors.settings import VehicleSettings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _drive(total: int, concurrency: int, call: Callable[[], Awaitable[object]]) -> float:
    """Requests per second for ``total`` calls with ``concurrency`` workers."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def _measure(url: str, latency_ms: int, total: int, concurrencies: list[int]) -> None:
    owner = find_identifier(lambda a: bool(a.vehicles))
    path = f"/owners/{owner}/vehicles"
    headers = {"X-Mock-Latency-Ms": str(latency_ms)}
    print(f"{'in flight':>9} {'ceiling':>8} {'aiohttp':>8} {'httpx':>8} {'httpx+aio':>9}  req/s")
    for concurrency in concurrencies:
        row = [concurrency * 1000 / latency_ms]
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency)
        ) as session:

            async def bare() -> object:
                async with session.get(f"{url}/vehicle{path}", headers=headers) as response:
                    return await response.read()

            row.append(await _drive(total, concurrency, bare))
        for transport in ("httpx", "aiohttp"):
            settings = VehicleSettings(
                base_url=f"{url}/vehicle",
                transport=transport,
                headers=headers,
                max_in_flight=concurrency,
                rate_limit_per_second=1e6,
                rate_limit_burst=10_000,
            )
            client = RegistryClient("vehicle", settings)

            async def through_client(c: RegistryClient = client) -> object:
                return await c.request("GET", path)

            row.append(await _drive(total, concurrency, through_client))
            await client.aclose()
        print(f"{concurrency:>9} " + " ".join(f"{v:>8.0f}" for v in row))


def main() -> None:
    """Run the benchmark against a mock server in a child process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 50, 200])
    args = parser.parse_args()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"from connectors.mock.server import run; run(port={port})"]
    )
    try:
        for _ in range(200):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        asyncio.run(_measure(url, args.latency_ms, args.requests, args.concurrency))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
