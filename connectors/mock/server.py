"""One HTTP server for the four mock registries, mounted under /bank, /vehicle, /securities
and /business (the default ``base_url``s of ``connectors.settings``).

``build_app`` makes the ASGI app (tests wrap it in ``httpx.ASGITransport``), ``serve``/``run``
start uvicorn on it (``enforcement mock-registries``). Every app gets its own freeze books;
``reset`` clears them (tests).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from connectors.mock import bank, business, securities, vehicle
from connectors.mock.book import FreezeBook
from connectors.mock.faults import FaultMiddleware, FaultSettings
from connectors.mock.today import TodayMiddleware, make_today

REGISTRIES = ("bank", "vehicle", "securities", "business")


class MockSettings(BaseModel):
    """Faults for all registries (``faults``) or one (``per_registry``), and bank pacing."""

    faults: FaultSettings = Field(default_factory=FaultSettings)
    per_registry: dict[str, FaultSettings] = Field(default_factory=dict)
    bank_pending_polls: int = Field(default=1, ge=0, description="PROCESSING answers before DONE")
    today: dt.date | None = Field(
        default=None,
        description="the books' date when a request has no X-Mock-Today (default: wall clock)",
    )


@dataclass(eq=False)
class MockState:
    """What a built app holds: the freeze books and fault middlewares by registry."""

    books: dict[str, FreezeBook] = field(default_factory=dict)
    faults: dict[str, FaultMiddleware] = field(default_factory=dict)
    inquiries: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        """Clear freeze books, bank inquiries and fault counters."""
        for book in self.books.values():
            book.reset()
        for middleware in self.faults.values():
            middleware.reset()
        self.inquiries.clear()


_STATES: weakref.WeakSet[MockState] = weakref.WeakSet()


def build_app(settings: MockSettings | None = None) -> Starlette:
    """The four registries mounted on one app; ``app.state.mock`` is its ``MockState``."""
    settings = settings or MockSettings()
    apps = {
        "bank": bank.create_app(pending_polls=settings.bank_pending_polls),
        "vehicle": vehicle.create_app(),
        "securities": securities.create_app(),
        "business": business.create_app(),
    }
    state = MockState(inquiries=apps["bank"].state.inquiries)
    routes: list[Route | Mount] = [Route("/", _index)]
    for name, app in apps.items():
        state.books[name] = app.state.book
        state.books[name].today = make_today(settings.today)
        faults = settings.per_registry.get(name, settings.faults)
        state.faults[name] = FaultMiddleware(app, faults)
        routes.append(Mount(f"/{name}", app=TodayMiddleware(state.faults[name])))
    root = Starlette(routes=routes)
    root.state.mock = state
    _STATES.add(state)
    return root


async def _index(request: Request) -> JSONResponse:
    return JSONResponse({"registries": [f"/{name}" for name in REGISTRIES]})


def state_of(app: Starlette) -> MockState:
    """The freeze books and fault counters of an app made by ``build_app``."""
    state: MockState = app.state.mock
    return state


def reset(app: Starlette | None = None) -> None:
    """Clear the freeze books of one app, or of every app built in this process."""
    for state in [state_of(app)] if app is not None else list(_STATES):
        state.reset()


def _settings(settings: MockSettings | None, faults: dict[str, Any]) -> MockSettings:
    if settings is None:
        return MockSettings(faults=FaultSettings(**faults))
    if faults:
        return settings.model_copy(update={"faults": FaultSettings(**faults)})
    return settings


async def serve(
    host: str = "127.0.0.1",
    port: int = 8701,
    *,
    settings: MockSettings | None = None,
    **faults: Any,
) -> None:
    """Serve the mock registries until cancelled; keyword arguments are ``FaultSettings``.

    Cancelling shuts uvicorn down gracefully (its socket closed) before re-raising.
    """
    app = build_app(_settings(settings, faults))
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        await task
        raise


def run(
    host: str = "127.0.0.1",
    port: int = 8701,
    *,
    settings: MockSettings | None = None,
    **faults: Any,
) -> None:
    """Blocking ``serve`` for the CLI (``enforcement mock-registries``)."""
    asyncio.run(serve(host, port, settings=settings, **faults))
