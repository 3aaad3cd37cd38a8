"""The resilient client under injected faults: retries, Retry-After, garbage, timeouts, outage,
circuit breaker, idempotent writes, rate limits and the in-flight bound."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from connectors.errors import PermanentError, RateLimited, TransientError
from connectors.http import CircuitOpen, RateLimiter, RedisRateLimiter, RegistryClient
from connectors.mock import data
from connectors.mock.faults import FaultSettings
from connectors.mock.server import MockSettings, build_app, state_of
from connectors.settings import VehicleSettings
from connectors.vehicle import VehicleConnector
from tests.conftest import REDIS_URL, requires_redis

from .conftest import FAST, LiveServer, free_port
from .test_connectors import RICH, order, person

OWNER_PATH = f"/owners/{RICH}/vehicles"


class Harness:
    """A ``RegistryClient`` for the vehicle mock that records retry waits instead of sleeping."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.waits: list[float] = []
        self.clients: list[RegistryClient] = []

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def client(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        **settings: Any,
    ) -> RegistryClient:
        config = VehicleSettings(**{**FAST, "base_url": "http://mock/vehicle", **settings})
        http = transport or httpx.ASGITransport(app=self.app)
        client = RegistryClient(
            "vehicle", config, transport=http, limiter=limiter, sleep=self._sleep
        )
        self.clients.append(client)
        return client

    @property
    def requests(self) -> int:
        return state_of(self.app).faults["vehicle"].requests


@pytest.fixture
async def harness(mock_app: Starlette) -> AsyncIterator[Harness]:
    h = Harness(mock_app)
    yield h
    for client in h.clients:
        await client.aclose()


def fault(kind: str, times: int | None = None, **extra: str) -> dict[str, str]:
    headers = {"X-Mock-Fault": kind, "X-Mock-Fault-Scope": uuid.uuid4().hex, **extra}
    if times is not None:
        headers["X-Mock-Fault-Times"] = str(times)
    return headers


async def test_server_errors_are_retried(harness: Harness) -> None:
    client = harness.client(headers=fault("error", times=2))
    body = await client.request("GET", OWNER_PATH)
    assert body["ownerIdNo"] == RICH
    assert harness.requests == 3
    assert len(harness.waits) == 2


@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_retries_stop_after_max_retries_with_growing_backoff(
    harness: Harness, max_retries: int
) -> None:
    client = harness.client(
        max_retries=max_retries,
        retry_backoff_seconds=1.0,
        retry_backoff_max_seconds=100.0,
        breaker_failure_threshold=100,
        headers=fault("error"),
    )
    with pytest.raises(TransientError):
        await client.request("GET", OWNER_PATH)
    assert harness.requests == max_retries + 1
    # wait_exponential_jitter: 1 s × 2^(n-1) plus up to 1 s of jitter, after failed attempt n
    assert len(harness.waits) == max_retries
    for n, wait in enumerate(harness.waits, start=1):
        assert 2 ** (n - 1) <= wait <= 2 ** (n - 1) + 1, (n, harness.waits)


async def test_retry_after_is_honoured(harness: Harness) -> None:
    client = harness.client(headers=fault("throttle", times=2, **{"X-Mock-Retry-After": "3"}))
    await client.request("GET", OWNER_PATH)
    assert harness.requests == 3
    assert len(harness.waits) == 2
    assert all(3 <= w <= 3.3 for w in harness.waits)


async def test_a_long_retry_after_is_left_to_the_job(harness: Harness) -> None:
    client = harness.client(
        max_retry_after_seconds=10, headers=fault("throttle", **{"X-Mock-Retry-After": "120"})
    )
    with pytest.raises(RateLimited) as caught:
        await client.request("GET", OWNER_PATH)
    assert caught.value.retry_after == 120
    assert harness.requests == 1


async def test_garbage_is_permanent_and_not_retried(harness: Harness) -> None:
    client = harness.client(headers=fault("garbage"))
    with pytest.raises(PermanentError):
        await client.request("GET", OWNER_PATH)
    assert harness.requests == 1


async def test_garbage_fields_are_permanent(mock_app: Starlette) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"vehicles": [{"vin": "X"}]})

    settings = VehicleSettings(**FAST)
    http = RegistryClient("vehicle", settings, transport=httpx.MockTransport(handler))
    connector = VehicleConnector(settings, http)
    with pytest.raises(PermanentError):
        await connector.query(person())
    await connector.aclose()


async def test_timeouts_are_retried_then_transient(harness: Harness) -> None:
    client = harness.client(
        timeout_seconds=0.05, max_retries=1, headers={"X-Mock-Latency-Ms": "1000"}
    )
    with pytest.raises(TransientError, match="timed out"):
        await client.request("GET", OWNER_PATH)
    assert harness.requests == 2


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_timeout_over_real_http(live_server: LiveServer, transport: str) -> None:
    settings = VehicleSettings(
        **{**FAST, "timeout_seconds": 0.05, "max_retries": 1, "transport": transport},
        base_url=f"{live_server.url}/vehicle",
        headers={"X-Mock-Latency-Ms": "1000"},
    )
    client = RegistryClient("vehicle", settings)
    try:
        with pytest.raises(TransientError, match="timed out"):
            await client.request("GET", OWNER_PATH)
    finally:
        await client.aclose()


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_connection_refused_is_transient(transport: str) -> None:
    settings = VehicleSettings(
        **{**FAST, "max_retries": 1, "transport": transport},
        base_url=f"http://127.0.0.1:{free_port()}",
    )
    client = RegistryClient("vehicle", settings)
    try:
        with pytest.raises(TransientError):
            await client.request("GET", OWNER_PATH)
    finally:
        await client.aclose()


async def test_outage_opens_the_breaker_then_fails_fast() -> None:
    app = build_app(MockSettings(per_registry={"vehicle": FaultSettings(outage=True)}))
    harness = Harness(app)
    client = harness.client(max_retries=1, breaker_failure_threshold=3, breaker_reset_seconds=0.2)
    with pytest.raises(TransientError):
        await client.request("GET", OWNER_PATH)
    assert harness.requests == 2
    with pytest.raises(CircuitOpen):
        await client.request("GET", OWNER_PATH)
    assert harness.requests == 3
    assert await client.breaker_state() == "opened"
    with pytest.raises(CircuitOpen):
        await client.request("GET", OWNER_PATH)
    assert harness.requests == 3  # failed fast: the registry was not called

    state_of(app).faults["vehicle"].settings = FaultSettings()  # the registry recovers
    await asyncio.sleep(0.3)  # past breaker_reset_seconds: half-open lets one call through
    assert (await client.request("GET", OWNER_PATH))["ownerIdNo"] == RICH
    assert await client.breaker_state() == "closed"
    await client.aclose()


async def test_client_errors_do_not_open_the_breaker(harness: Harness) -> None:
    client = harness.client(breaker_failure_threshold=1)
    for _ in range(3):
        with pytest.raises(PermanentError):
            await client.request("GET", "/owners/not-an-id/vehicles")
    assert await client.breaker_state() == "closed"


async def test_retried_freeze_with_lost_response_freezes_once(mock_app: Starlette) -> None:
    """The mock processes the first seizure but its answer is lost (503): the retry carries the
    same Idempotency-Key and gets the same seizure back."""
    harness = Harness(mock_app)
    headers = {"X-Mock-Drop-After": "1", "X-Mock-Fault-Scope": uuid.uuid4().hex}
    http = harness.client(headers=headers)
    connector = VehicleConnector(http.settings, http)
    vin = data.assets_for(RICH).vehicles[0].vin
    receipt = await connector.freeze(order(f"{RICH}:{vin}"))
    assert receipt.status == "active"
    assert harness.requests == 2
    assert len(state_of(mock_app).books["vehicle"].on_asset(vin)) == 1
    await connector.aclose()


class LoseFirstResponse(httpx.AsyncBaseTransport):
    """Forwards every request, but loses the first response (as a dropped connection would)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" and not self.lost:
            self.lost += 1
            await response.aclose()
            raise httpx.ReadError("connection reset", request=request)
        return response


async def test_lost_response_on_the_wire_freezes_once(mock_app: Starlette) -> None:
    harness = Harness(mock_app)
    transport = LoseFirstResponse(httpx.ASGITransport(app=mock_app))
    http = harness.client(transport=transport)
    connector = VehicleConnector(http.settings, http)
    vin = data.assets_for(RICH).vehicles[0].vin
    first = await connector.freeze(order(f"{RICH}:{vin}", key="same-key"))
    assert transport.lost == 1
    assert harness.requests == 2
    assert first.status == "active"
    assert len(state_of(mock_app).books["vehicle"].on_asset(vin)) == 1
    again = await connector.freeze(order(f"{RICH}:{vin}", key="same-key"))
    assert again.registry_freeze_id == first.registry_freeze_id
    await connector.aclose()


def max_in_window(arrivals: list[float], window: float) -> int:
    """The most requests that arrived within any ``window`` seconds."""
    return max(
        sum(1 for t in arrivals[i:] if t - start < window) for i, start in enumerate(arrivals)
    )


async def test_local_rate_limit_holds(harness: Harness) -> None:
    client = harness.client(rate_limit_per_second=40, rate_limit_burst=2)
    await asyncio.gather(*(client.request("GET", OWNER_PATH) for _ in range(30)))
    arrivals = state_of(harness.app).faults["vehicle"].arrivals
    assert len(arrivals) == 30
    # At 40/s with a burst of 2, no 0.25 s window may hold more than 2 + 10 (+1 for edges);
    # an upper bound only, so a slow machine cannot make it fail.
    assert max_in_window(arrivals, 0.25) <= 13


@requires_redis  # the PostgreSQL + Redis run; a Redis that is down there fails the test
async def test_redis_rate_limit_is_shared_by_workers(harness: Harness) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    key = f"test:connectors:rate:{uuid.uuid4().hex}"
    try:
        workers = [
            harness.client(limiter=RedisRateLimiter(redis, key, rate_per_second=40, burst=2))
            for _ in range(2)
        ]
        await asyncio.gather(*(w.request("GET", OWNER_PATH) for w in workers for _ in range(15)))
        arrivals = state_of(harness.app).faults["vehicle"].arrivals
        assert len(arrivals) == 30
        assert max_in_window(arrivals, 0.25) <= 13  # one limit for both workers, not 2 × 40/s
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_in_flight_requests_are_bounded(harness: Harness) -> None:
    client = harness.client(max_in_flight=3, headers={"X-Mock-Latency-Ms": "20"})
    await asyncio.gather(*(client.request("GET", OWNER_PATH) for _ in range(12)))
    faults = state_of(harness.app).faults["vehicle"]
    assert faults.requests == 12
    assert faults.peak_in_flight <= 3


async def test_writes_carry_an_idempotency_key(harness: Harness) -> None:
    seen: list[str | None] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(503 if len(seen) == 1 else 200, json={})

    client = harness.client(transport=httpx.MockTransport(handler))
    await client.request("POST", "/anything", json_body={})
    assert len(seen) == 2
    assert seen[0]
    assert seen[0] == seen[1]
