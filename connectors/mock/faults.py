"""Fault injection for the mock registries: from settings (demos, benchmarks) or headers (tests).

Settings (``FaultSettings``) apply to every request: latency drawn from a distribution, a
random error rate, periodic 429 bursts with ``Retry-After``, a full outage, garbage bodies.

Headers apply to one request and work in-process and over real HTTP:

    X-Mock-Latency-Ms: 250          add latency before answering
    X-Mock-Fault: error|unavailable|throttle|garbage|outage
                                    500 | 503 | 429 | 200 with a non-JSON body | 503 forever
    X-Mock-Fault-Times: 2           only the first 2 requests of this scope fail, then pass
    X-Mock-Fault-Scope: t1          counter name for Fault-Times (default "default")
    X-Mock-Retry-After: 1           seconds sent with a throttle 429
    X-Mock-Drop-After: 1            process the first N requests of the scope, then answer 503
                                    instead of their response (a lost response)

``X-Mock-Drop-After`` lets a test check idempotency: the write happens but the client sees a
failure and retries with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class FaultSettings(BaseModel):
    """Faults every request of a mock registry suffers."""

    latency_ms: float = Field(default=0.0, ge=0, description="mean added latency")
    latency_distribution: Literal["fixed", "uniform", "exponential"] = "fixed"
    error_rate: float = Field(default=0.0, ge=0, le=1, description="share answered 500/503")
    garbage_rate: float = Field(default=0.0, ge=0, le=1, description="share with a non-JSON body")
    throttle_every: int = Field(default=0, ge=0, description="a 429 burst every N requests")
    throttle_burst: int = Field(default=3, ge=1)
    retry_after_seconds: float = Field(default=1.0, ge=0)
    outage: bool = False
    seed: int = 0


class FaultMiddleware:
    """ASGI middleware that injects the configured faults in front of one registry app."""

    def __init__(self, app: ASGIApp, settings: FaultSettings | None = None) -> None:
        self.app = app
        self.settings = settings or FaultSettings()
        self.reset()

    def reset(self) -> None:
        """Forget request counters (tests)."""
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.arrivals: list[float] = []  # monotonic arrival times, to check client rate limits
        self.scopes: Counter[str] = Counter()
        self._random = random.Random(self.settings.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer with a fault or pass the request to the registry."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.requests += 1
        self.arrivals.append(time.monotonic())
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await self._handle(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        delay = self._latency(headers)
        if delay:
            await asyncio.sleep(delay)
        fault = self._fault(headers)
        if fault == "drop":
            await self.app(scope, receive, _discard)
            fault = "unavailable"
        if fault:
            retry_after = headers.get("x-mock-retry-after", str(self.settings.retry_after_seconds))
            await _answer(send, fault, retry_after)
            return
        await self.app(scope, receive, send)

    def _latency(self, headers: dict[str, str]) -> float:
        if "x-mock-latency-ms" in headers:
            return float(headers["x-mock-latency-ms"]) / 1000
        mean = self.settings.latency_ms / 1000
        if not mean or self.settings.latency_distribution == "fixed":
            return mean
        if self.settings.latency_distribution == "uniform":
            return self._random.uniform(0, 2 * mean)
        return self._random.expovariate(1 / mean)

    def _fault(self, headers: dict[str, str]) -> str | None:
        s = self.settings
        if s.outage:
            return "unavailable"
        wanted = headers.get("x-mock-fault")
        times = headers.get("x-mock-fault-times")
        if "x-mock-drop-after" in headers:
            wanted, times = "drop", headers["x-mock-drop-after"]
        if wanted:
            scope = headers.get("x-mock-fault-scope", "default")
            self.scopes[scope] += 1
            if wanted == "outage":
                return "unavailable"
            if times is None or self.scopes[scope] <= int(times):
                return wanted
            return None
        if s.throttle_every and (self.requests - 1) % s.throttle_every < s.throttle_burst:
            return "throttle"
        roll = self._random.random()
        if roll < s.error_rate:
            return self._random.choice(("error", "unavailable"))
        if roll < s.error_rate + s.garbage_rate:
            return "garbage"
        return None


async def _discard(message: Message) -> None:
    """A ``send`` that loses the response: the request was processed, the answer never arrives."""


async def _answer(send: Send, fault: str, retry_after: str) -> None:
    status, body, content_type = {
        "error": (500, json.dumps({"error": "internal"}).encode(), b"application/json"),
        "unavailable": (503, b"Service Unavailable", b"text/plain"),
        "throttle": (429, json.dumps({"error": "too many requests"}).encode(), b"application/json"),
        "garbage": (200, b'{"data": [<html>oops', b"application/json"),
    }[fault]
    headers: list[Any] = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
    ]
    if fault == "throttle":
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
