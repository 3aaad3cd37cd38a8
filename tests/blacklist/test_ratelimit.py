"""Credit calls are rate limited per token, with Retry-After; the window follows the clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blacklist import ratelimit
from tests.conftest import REDIS_URL, requires_redis


@pytest.fixture
def three_per_minute() -> Iterator[None]:
    previous = ratelimit.set_limiter(ratelimit.MemoryLimiter(3))
    yield
    ratelimit.set_limiter(previous)


async def test_fourth_call_in_a_minute_is_429(
    client, credit, make_token, frozen_clock, three_per_minute
):
    for _ in range(3):
        assert (await client.get("/feed", headers=credit)).status_code == 200
    response = await client.post("/screen", json={"name": "王伟"}, headers=credit)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "60"  # the clock sits on a minute boundary
    other = await make_token("credit", name="other")
    assert (await client.get("/feed", headers=other)).status_code == 200  # per token
    frozen_clock.advance(seconds=60)
    assert (await client.get("/feed", headers=credit)).status_code == 200


async def test_public_and_officer_routes_are_not_counted(client, officer, three_per_minute):
    for _ in range(5):
        assert (await client.get("/listings")).status_code == 200


@requires_redis
async def test_redis_limiter_shares_the_window():
    first = ratelimit.RedisLimiter(2, REDIS_URL, "enf-test:rl:")
    second = ratelimit.RedisLimiter(2, REDIS_URL, "enf-test:rl:")
    try:
        import secrets

        key = f"token:{secrets.token_hex(4)}"
        assert await first.hit(key, 1) == 1
        assert await second.hit(key, 1) == 2
        assert await first.hit(key, 1) == 3
        assert await first.hit(key, 2) == 1
    finally:
        await first.close()
        await second.close()


async def test_admins_are_not_limited(client, admin, three_per_minute):
    for _ in range(5):
        assert (await client.get("/feed", headers=admin)).status_code == 200
