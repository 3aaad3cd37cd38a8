"""The mock server entry points the CLI uses: ``serve`` on a port, ``reset`` of the books."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from connectors.mock import data
from connectors.mock.server import build_app, reset, serve, state_of

from .conftest import free_port
from .test_connectors import RICH, order


async def test_serve_answers_over_http_with_faults_from_settings() -> None:
    port = free_port()
    task = asyncio.create_task(serve(port=port, throttle_every=2, throttle_burst=1))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    index = await client.get("/")
                    break
                await asyncio.sleep(0.02)
            assert index.json()["registries"] == ["/bank", "/vehicle", "/securities", "/business"]
            statuses = [
                (await client.get(f"/vehicle/owners/{RICH}/vehicles")).status_code for _ in range(4)
            ]
            assert statuses == [429, 200, 429, 200]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_reset_clears_the_books() -> None:
    app = build_app()
    vin = data.assets_for(RICH).vehicles[0].vin
    request = order(f"{RICH}:{vin}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        response = await c.post(
            "/vehicle/seizures",
            headers={"Idempotency-Key": "k"},
            json={
                "ownerIdNo": RICH,
                "vin": vin,
                "courtCode": request.court_code,
                "caseNo": "c",
                "orderNo": "o",
                "expiresOn": request.until.isoformat(),
            },
        )
    assert response.status_code == 201
    assert state_of(app).books["vehicle"].freezes
    reset()
    assert not state_of(app).books["vehicle"].freezes
