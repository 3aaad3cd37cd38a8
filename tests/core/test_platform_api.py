"""Health, offline docs, OpenAPI, time travel and token storage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from enforcement.core import clock
from enforcement.core.auth import hash_token
from enforcement.core.models import ApiToken
from enforcement.core.settings import get_settings


async def test_healthz_is_public(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_docs_page_uses_no_cdn(app):
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        page = await c.get("/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower()
        assert "/docs-static/swagger-ui-bundle.js" in page.text
        js = await c.get("/docs-static/swagger-ui-bundle.js")
        assert js.status_code == 200 and len(js.content) > 100_000
        spec = (await c.get("/openapi.json")).json()
    assert "/api/v1/cases" in spec["paths"]
    assert spec["components"]["securitySchemes"]


async def test_tokens_are_stored_hashed(session, make_token):
    headers = await make_token("admin")
    token = headers["Authorization"].split()[1]
    rows = (await session.execute(select(ApiToken))).scalars().all()
    assert [r.token_hash for r in rows] == [hash_token(token)]
    assert all(token not in (r.token_hash, r.prefix) for r in rows)


async def test_time_travel_is_off_by_default(client, admin):
    assert (await client.get("/admin/clock", headers=admin)).status_code == 404
    response = await client.post("/admin/clock", json={"offset_seconds": 60}, headers=admin)
    assert response.status_code == 404


async def test_time_travel_moves_the_service_clock(client, admin, make_token, monkeypatch):
    monkeypatch.setenv("ENFORCEMENT_ALLOW_TIME_TRAVEL", "true")
    get_settings.cache_clear()
    system = clock.SystemClock()
    previous = clock.set_clock(system)
    try:
        officer = await make_token("officer", court="甘0602")
        assert (
            await client.post("/admin/clock", json={"offset_seconds": 3600}, headers=officer)
        ).status_code == 403
        response = await client.post("/admin/clock", json={"offset_seconds": 86400}, headers=admin)
        assert response.status_code == 200
        moved = dt.datetime.fromisoformat(response.json()["now"])
        assert moved - dt.datetime.now(dt.UTC) > dt.timedelta(hours=23)
        assert clock.now() - dt.datetime.now(dt.UTC) > dt.timedelta(hours=23)
        read = (await client.get("/admin/clock", headers=admin)).json()
        assert read["offset_seconds"] == 86400
    finally:
        clock.set_clock(previous)
        monkeypatch.delenv("ENFORCEMENT_ALLOW_TIME_TRAVEL")
        get_settings.cache_clear()
