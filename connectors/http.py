"""The one resilient HTTP client every connector uses; the only place that retries HTTP calls.

Each attempt passes, in order: the circuit breaker (purgatory; fails fast while open), the
rate limiter (aiolimiter in-process, or ``RedisRateLimiter`` shared by all workers), a
semaphore bounding requests in flight (httpx's own pool degrades above ~20 in flight, see
``performance.md``), and a deadline. Requests go to an httpx transport directly: registries
need no cookies, redirects or auth flows, and skipping ``AsyncClient`` saves CPU per call.
Failures are classified once into ``connectors.errors``; tenacity retries transient ones with
exponential backoff and jitter, honouring ``Retry-After`` on 429. Every write carries an
``Idempotency-Key`` that stays the same across retries, so a retried freeze never freezes twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import importlib
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import httpx
from aiolimiter import AsyncLimiter
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from redis.asyncio import Redis
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from connectors.errors import (
    ConnectorError,
    NotSupported,
    PermanentError,
    RateLimited,
    TransientError,
)
from connectors.settings import ConnectorSettings


class CircuitOpen(TransientError):
    """The registry's circuit breaker is open: we fail fast without calling it."""


class RateLimiter(Protocol):
    """Something that delays a caller until one more request fits the registry's rate."""

    async def acquire(self) -> None:
        """Wait for a slot."""
        ...


class LocalRateLimiter:
    """In-process limiter (leaky bucket from aiolimiter); one per client and event loop."""

    def __init__(self, rate_per_second: float, burst: int = 1) -> None:
        # aiolimiter admits `max_rate` per `time_period`: a bucket of `burst` draining at `rate`.
        self._limiter = AsyncLimiter(burst, burst / rate_per_second)

    async def acquire(self) -> None:
        """Wait for a slot."""
        await self._limiter.acquire()


# GCRA (generic cell rate algorithm) on Redis' own clock, so every worker shares one limit.
# KEYS[1] holds the theoretical arrival time in microseconds. Returns 0 when admitted, else
# the microseconds to wait before asking again.
_GCRA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
local new_tat = tat + interval
local ttl_ms = math.ceil((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
return 0
"""


class RedisRateLimiter:
    """A per-registry limit shared by every worker through one Redis key (GCRA, atomic Lua)."""

    def __init__(self, redis: Redis, key: str, rate_per_second: float, burst: int = 1) -> None:
        self._redis = redis
        self.key = key
        self._interval = round(1_000_000 / rate_per_second)
        self._tolerance = self._interval * (burst - 1)
        self._script = redis.register_script(_GCRA)

    async def acquire(self) -> None:
        """Wait until Redis admits this request."""
        while True:
            wait = int(await self._script(keys=[self.key], args=[self._interval, self._tolerance]))
            if wait <= 0:
                return
            await asyncio.sleep(wait / 1_000_000)


def make_transport(settings: ConnectorSettings) -> httpx.AsyncBaseTransport:
    """The httpx transport for one registry, with its connection pool limits.

    ``transport="aiohttp"`` keeps the httpx API but sends through aiohttp (httpx-aiohttp),
    which holds up far better with many requests in flight.
    """
    limits = httpx.Limits(
        max_connections=settings.max_in_flight, max_keepalive_connections=settings.max_in_flight
    )
    if settings.transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport(limits=limits)
    return httpx.AsyncHTTPTransport(limits=limits)


def load_today(path: str) -> Callable[[], dt.date]:
    """The ``module:function`` named by ``mock_today_from`` (a bad path fails start-up)."""
    module_name, _, attribute = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"mock_today_from {path!r} does not name a function: {exc!r}") from exc
    if not callable(found):
        raise ValueError(f"mock_today_from {path!r} is not callable")
    today: Callable[[], dt.date] = found
    return today


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RegistryClient:
    """Resilient JSON-over-HTTP calls to one registry; owns its breaker and limiter."""

    def __init__(
        self,
        registry: str,
        settings: ConnectorSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.registry = registry
        self._sleep = sleep
        self.settings = settings
        self.transport = transport or make_transport(settings)
        self._timeouts = {
            "connect": settings.connect_timeout_seconds,
            "read": settings.timeout_seconds,
            "write": settings.timeout_seconds,
            "pool": settings.timeout_seconds,
        }
        self.limiter = limiter or LocalRateLimiter(
            settings.rate_limit_per_second, settings.rate_limit_burst
        )
        self._in_flight = asyncio.Semaphore(settings.max_in_flight)
        # Answers (4xx, 429, bad data) and our own cancellations are not registry failures.
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.breaker_failure_threshold,
            default_ttl=settings.breaker_reset_seconds,
            exclude=[PermanentError, NotSupported, RateLimited, asyncio.CancelledError],
        )
        self._headers = dict(settings.headers)
        if settings.api_key is not None:
            self._headers["X-Api-Key"] = settings.api_key.get_secret_value()
        self._today = load_today(settings.mock_today_from) if settings.mock_today_from else None
        self._backoff = wait_exponential_jitter(
            multiplier=settings.retry_backoff_seconds,
            max=settings.retry_backoff_max_seconds,
            jitter=settings.retry_backoff_seconds,
        )

    async def aclose(self) -> None:
        """Close the transport's connection pool."""
        await self.transport.aclose()

    async def breaker_state(self) -> str:
        """``closed``, ``opened`` or ``half-opened`` (for health pages and tests)."""
        breaker = await self._breakers.get_breaker(self.registry)
        return breaker.context.state

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send a request with retries and return the decoded JSON body.

        Writes (anything but GET) always carry an ``Idempotency-Key``: the caller's, or one
        made here and reused by every retry. A 4xx answer raises ``PermanentError`` whose
        ``body`` attribute holds the registry's decoded error, if any.
        """
        headers = dict(self._headers)
        if self._today is not None:
            headers["X-Mock-Today"] = self._today().isoformat()
        if method.upper() != "GET":
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        url = path if path.startswith("http") else self.settings.base_url.rstrip("/") + path
        # Nearly every call succeeds at once, and setting up tenacity's loop cost ~5 % of a
        # sweep's CPU: the first attempt runs bare, the retries (attempts 2…) under tenacity.
        try:
            return await self._attempt(method, url, headers, json_body, params)
        except TransientError as exc:
            if self.settings.max_retries == 0 or not self._should_retry(exc):
                raise
            await self._sleep(self._delay(exc, attempt=1))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_retries),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, url, headers, json_body, params)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    def _should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, CircuitOpen) or not isinstance(exc, TransientError):
            return False
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after <= self.settings.max_retry_after_seconds
        return True

    def _wait(self, state: RetryCallState) -> float:
        """Tenacity's wait: its loop starts at our second attempt."""
        exc = state.outcome.exception() if state.outcome else None
        return self._delay(exc, attempt=state.attempt_number + 1)

    def _delay(self, exc: BaseException | None, *, attempt: int) -> float:
        """The pause after failed attempt number ``attempt``: the registry's ``Retry-After``
        (plus up to 10 % jitter), else exponential backoff with jitter."""
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after + random.uniform(0, 0.1 * exc.retry_after)
        return float(self._backoff(cast(RetryCallState, _AttemptNumber(attempt))))

    async def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        params: dict[str, Any] | None,
    ) -> Any:
        try:
            breaker = await self._breakers.get_breaker(self.registry)
            async with breaker:
                await self.limiter.acquire()
                async with self._in_flight:
                    response = await self._send(method, url, headers, json_body, params)
                return self._decode(response)
        except OpenedState as exc:
            raise CircuitOpen(self.registry, "circuit breaker open") from exc

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        params: dict[str, Any] | None,
    ) -> httpx.Response:
        # Straight to the transport: an ``httpx.AsyncClient`` adds cookie, redirect and auth
        # handling that registry calls never want and that cost ~12 % of a sweep's CPU.
        # The overall deadline also covers transports that ignore httpx timeouts (ASGITransport).
        request = httpx.Request(
            method,
            url,
            headers=headers,
            json=json_body,
            params=params,
            extensions={"timeout": self._timeouts},
        )
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                response = await self.transport.handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise TransientError(self.registry, f"{method} {url}: timed out") from exc
        except httpx.TransportError as exc:
            raise TransientError(self.registry, f"{method} {url}: {exc!r}") from exc
        response.request = request
        return response

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        where = f"{response.request.method} {response.request.url.path}"
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(self.registry, f"{where}: 429", retry_after=retry_after)
        if status >= 500:
            raise TransientError(self.registry, f"{where}: {status}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PermanentError(self.registry, f"{where}: unreadable body ({status})") from exc
        if status >= 400:
            error = RegistryRejected(self.registry, f"{where}: {status} {body}")
            error.status, error.body = status, body
            raise error
        return body


@dataclass(frozen=True)
class _AttemptNumber:
    """All that tenacity's ``wait_exponential_jitter`` reads of a retry state."""

    attempt_number: int


class RegistryRejected(PermanentError):
    """A 4xx answer; carries the HTTP status and the registry's decoded error body."""

    status: int = 0
    body: Any = None


__all__ = [
    "CircuitOpen",
    "ConnectorError",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "RegistryClient",
    "RegistryRejected",
    "make_transport",
    "parse_retry_after",
]
