"""Fixtures for connector tests: the mock registries in-process (ASGITransport) and over real
HTTP (uvicorn in a background thread), and connectors built against either."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from connectors.bank import BankConnector
from connectors.business import BusinessConnector
from connectors.mock.server import MockSettings, build_app
from connectors.registry import ConnectorMap, build_connectors
from connectors.securities import SecuritiesConnector
from connectors.settings import ConnectorSettings
from connectors.vehicle import VehicleConnector

PLUGINS: dict[str, type] = {
    "bank": BankConnector,
    "vehicle": VehicleConnector,
    "securities": SecuritiesConnector,
    "business": BusinessConnector,
}
FAST = {
    "timeout_seconds": 2.0,
    "retry_backoff_seconds": 0.01,
    "retry_backoff_max_seconds": 0.05,
    "poll_interval_seconds": 0.01,
    "poll_max_interval_seconds": 0.05,
    "poll_timeout_seconds": 5.0,
    "rate_limit_per_second": 1000.0,
    "rate_limit_burst": 100,
}

Build = Callable[..., ConnectorMap]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The mock registries served by uvicorn on a free port in a background thread."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("mock server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real HTTP server for the whole session; tests reset its books."""
    with LiveServer(build_app()) as server:
        yield server


@pytest.fixture
def mock_app() -> Starlette:
    """A fresh in-process mock registry app (its own books)."""
    return build_app(MockSettings(bank_pending_polls=1))


@pytest.fixture(params=["asgi", "live"])
def target(request: pytest.FixtureRequest, mock_app: Starlette) -> Iterator[tuple[str, Starlette]]:
    """Where connectors talk to: the app in-process, or the live server over real HTTP."""
    if request.param == "asgi":
        yield "asgi", mock_app
        return
    server: LiveServer = request.getfixturevalue("live_server")
    from connectors.mock.server import reset

    reset(server.app)
    yield server.url, server.app
    reset(server.app)


def asgi_factory(
    app: Starlette,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> Callable[[str, ConnectorSettings], httpx.AsyncBaseTransport]:
    """A transport factory sending every connector's requests into ``app`` in-process."""

    def factory(name: str, settings: ConnectorSettings) -> httpx.AsyncBaseTransport:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
        if wrap is not None:
            transport = wrap(transport)
        return transport

    return factory


@pytest.fixture
async def build(target: tuple[str, Starlette]) -> AsyncIterator[Build]:
    """Build connectors against the current target with fast retries; closed after the test."""
    where, app = target
    made: list[ConnectorMap] = []

    def _build(only: str | None = None, **overrides: Any) -> ConnectorMap:
        config: dict[str, dict[str, Any]] = {}
        for name in PLUGINS:
            settings: dict[str, Any] = {**FAST, "enabled": only in (None, name), **overrides}
            if where != "asgi":
                settings["base_url"] = f"{where}/{name}"
            config[name] = settings
        factory = asgi_factory(app) if where == "asgi" else None
        connectors = build_connectors(config, transport_factory=factory, plugins=PLUGINS)
        made.append(connectors)
        return connectors

    yield _build
    for connectors in made:
        await connectors.aclose()
