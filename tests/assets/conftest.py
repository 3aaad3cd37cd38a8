"""Fixtures for asset tests: the mock registries in-process (ASGITransport) or over real HTTP,
connectors built against them and installed in the assets domain, and a job-draining helper."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from connectors.mock.server import MockSettings, build_app, reset
from connectors.registry import ConnectorMap, build_connectors
from connectors.settings import ConnectorSettings
from enforcement.assets import registries
from enforcement.core import clock, jobs
from tests.connectors.conftest import FAST, PLUGINS, LiveServer

Build = Callable[..., ConnectorMap]


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests by (registry, path) before passing them on: 'queried exactly once'."""

    def __init__(self, registry: str, inner: httpx.AsyncBaseTransport, counts: Counter[str]):
        self.registry, self.inner, self.counts = registry, inner, counts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count, then forward."""
        self.counts[f"{request.method} {request.url.path}"] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()


@pytest.fixture
def mock_app() -> Starlette:
    """Fresh mock registries with their own freeze books (bank answers on the second poll)."""
    return build_app(MockSettings(bank_pending_polls=1))


@pytest.fixture
def request_counts() -> Counter[str]:
    """Requests the registries received, by method and path."""
    return Counter()


@pytest.fixture
async def install(mock_app: Starlette, request_counts: Counter[str]) -> AsyncIterator[Build]:
    """``install(url=None, headers=None, **overrides)``: build connectors and install them."""
    made: list[ConnectorMap] = []
    previous = registries.get_connectors()

    def _install(
        url: str | None = None,
        *,
        per_registry: dict[str, dict[str, Any]] | None = None,
        **overrides: Any,
    ) -> ConnectorMap:
        config: dict[str, dict[str, Any]] = {}
        for name in PLUGINS:
            settings: dict[str, Any] = {**FAST, **overrides, **(per_registry or {}).get(name, {})}
            if url is not None:
                settings["base_url"] = f"{url}/{name}"
            config[name] = settings

        def factory(name: str, settings: ConnectorSettings) -> httpx.AsyncBaseTransport:
            inner: httpx.AsyncBaseTransport = (
                httpx.ASGITransport(app=mock_app) if url is None else httpx.AsyncHTTPTransport()
            )
            return CountingTransport(name, inner, request_counts)

        connectors = build_connectors(config, transport_factory=factory, plugins=PLUGINS)
        made.append(connectors)
        registries.set_connectors(connectors)
        return connectors

    yield _install
    registries.set_connectors(previous)
    for connectors in made:
        await connectors.aclose()


@pytest.fixture
def connectors(install: Build) -> ConnectorMap:
    """The four connectors talking to ``mock_app`` in-process."""
    return install()


@pytest.fixture(scope="session")
def live_registries() -> Iterator[LiveServer]:
    """The mock registries over real HTTP (uvicorn in a thread), shared by the session."""
    with LiveServer(build_app(MockSettings(bank_pending_polls=1))) as server:
        yield server


@pytest.fixture
def live(live_registries: LiveServer) -> Iterator[LiveServer]:
    """The live server with clean freeze books."""
    reset(live_registries.app)
    yield live_registries
    reset(live_registries.app)


Drain = Callable[..., Awaitable[int]]


@pytest.fixture
def drain(runner: jobs.InProcessRunner, frozen_clock: clock.FrozenClock) -> Drain:
    """Run jobs until none is left, moving the clock to the next deferred one (≤ ``limit``)."""

    async def _drain(limit: int = 10_000, step: dt.timedelta = dt.timedelta(seconds=1)) -> int:
        ran = 0
        for _ in range(limit):
            ran += await runner.run_due()
            if not runner._queue:
                return ran
            wait = runner._queue[0].due - clock.now()
            frozen_clock.advance(max(wait, step))
        return ran

    return _drain
