"""Per-token rate limit for credit consumers: a fixed one-minute window.

With Redis configured the window is counted there (INCR + EXPIRE), so every API process
shares it; in the embedded mode a dict in this process counts. Windows follow the service
clock, so tests can move time instead of sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from enforcement.core import clock
from enforcement.core.errors import RateLimited
from enforcement.core.settings import Settings, get_settings

WINDOW_SECONDS = 60


class RateLimitExceeded(RateLimited):
    """429 ``rate_limited``; carries when the caller may try again."""

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(details={"retry_after": retry_after, "limit_per_minute": limit})
        self.retry_after = retry_after


class Limiter(Protocol):
    limit: int

    async def hit(self, key: str, window: int) -> int: ...

    async def close(self) -> None: ...


class MemoryLimiter:
    """Counts in this process (embedded mode, one process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str, window: int) -> int:
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        return count

    async def close(self) -> None:
        return None


class RedisLimiter:
    """Counts in Redis so that every API process shares the window."""

    def __init__(self, limit: int, redis_url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        self.limit = limit
        self.prefix = prefix
        self.redis: Any = Redis.from_url(redis_url)

    async def hit(self, key: str, window: int) -> int:
        name = f"{self.prefix}ratelimit:{key}:{window}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self.redis.aclose()


_limiter: Limiter | None = None


def build(settings: Settings) -> Limiter:
    """Redis when configured, memory otherwise."""
    limit = settings.credit_rate_limit_per_minute
    if settings.redis_url:
        return RedisLimiter(limit, settings.redis_url, settings.redis_prefix)
    return MemoryLimiter(limit)


def get_limiter() -> Limiter:
    """The process-wide limiter (built from the settings on first use)."""
    global _limiter
    if _limiter is None:
        _limiter = build(get_settings())
    return _limiter


def set_limiter(limiter: Limiter | None) -> Limiter | None:
    """Install a limiter (start-up, tests); returns the previous one."""
    global _limiter
    previous, _limiter = _limiter, limiter
    return previous


async def check(key: str) -> None:
    """Count one call of ``key``; 429 once the minute's allowance is spent."""
    limiter = get_limiter()
    now = clock.now().timestamp()
    window = int(now // WINDOW_SECONDS)
    if await limiter.hit(key, window) > limiter.limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        raise RateLimitExceeded(retry_after, limiter.limit)


class RateLimitedRoute(APIRoute):
    """Renders ``RateLimitExceeded`` with its ``Retry-After`` header (the shared error handler
    knows no headers)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RateLimitExceeded as exc:
                return JSONResponse(
                    exc.to_body(),
                    status_code=exc.status,
                    headers={"Retry-After": str(exc.retry_after)},
                )

        return route_handler
