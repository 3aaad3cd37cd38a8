"""The mock registries' idea of "today": a request header, a fixed setting, or the wall clock.

The freeze books decide expiry by date. A test or demo that moves the service clock must see
the registries expire freezes on the same days, so a request may carry ``X-Mock-Today:
YYYY-MM-DD`` (connectors send it only when ``mock_today_from`` is configured); otherwise the
mocks use ``MockSettings.today`` if set, else today's date in Beijing (the registries' zone).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

HEADER = "x-mock-today"
BEIJING = ZoneInfo("Asia/Shanghai")

_requested: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar(
    "mock_today", default=None
)


def wall_today() -> dt.date:
    """Today's date in Beijing by the wall clock."""
    return dt.datetime.now(BEIJING).date()


def make_today(fixed: dt.date | None = None) -> Callable[[], dt.date]:
    """A ``today`` for a freeze book: the request's ``X-Mock-Today``, else ``fixed``, else wall."""

    def today() -> dt.date:
        return _requested.get() or fixed or wall_today()

    return today


class TodayMiddleware:
    """Reads ``X-Mock-Today`` into the request's context (400 if it is not an ISO date)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the request's "today" for the books, then pass the request on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((v.decode() for k, v in scope["headers"] if k.decode().lower() == HEADER), None)
        day: dt.date | None = None
        if raw:
            try:
                day = dt.date.fromisoformat(raw.strip())
            except ValueError:
                response = JSONResponse({"error": f"{HEADER} must be YYYY-MM-DD"}, status_code=400)
                await response(scope, receive, send)
                return
        token = _requested.set(day)
        try:
            await self.app(scope, receive, send)
        finally:
            _requested.reset(token)
