"""Team rule as a test: every route authenticates, except the ones the contract makes public."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from enforcement.core.deps import get_principal

PUBLIC = {
    ("GET", "/docs"),
    ("GET", "/api/v1/healthz"),
    ("POST", "/api/v1/bidders"),
    ("GET", "/api/v1/auctions"),
    ("GET", "/api/v1/auctions/{auction_id}"),
    ("GET", "/api/v1/auctions/{auction_id}/events"),
    ("GET", "/api/v1/listings"),
    ("GET", "/api/v1/listings/{listing_id}"),
}


def _uses_auth(dependant) -> bool:
    if dependant.call is get_principal:
        return True
    return any(_uses_auth(d) for d in dependant.dependencies)


def _walk(routes, prefix: str = ""):
    """Every APIRoute with its full path (FastAPI ≥ 0.16x nests included routers)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            nested_prefix = prefix + route.include_context.prefix
            yield from _walk(route.original_router.routes, nested_prefix)


def _routes(app):
    for path, route in _walk(app.routes):
        for method in route.methods - {"HEAD", "OPTIONS"}:
            yield method, path, route


def test_every_non_public_route_requires_a_token(app):
    unauthenticated = {
        (method, path) for method, path, route in _routes(app) if not _uses_auth(route.dependant)
    }
    assert unauthenticated <= PUBLIC, f"routes without auth: {unauthenticated - PUBLIC}"


async def test_every_protected_route_answers_401_without_token(app, client):
    checked = 0
    for method, full_path, _ in _routes(app):
        if (method, full_path) in PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "1", full_path).removeprefix("/api/v1")
        response = await client.request(method, path, json={})
        assert response.status_code == 401, (method, full_path, response.text)
        assert response.json()["error"]["code"] in {"unauthenticated", "invalid_token"}
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("role", ["credit", "bidder"])
async def test_case_routes_refuse_non_court_roles(client, make_token, role):
    headers = await make_token(role, subject_id=1 if role == "bidder" else None)
    for method, path in [
        ("GET", "/cases"),
        ("POST", "/cases"),
        ("GET", "/cases/1"),
        ("GET", "/stats"),
    ]:
        response = await client.request(method, path, json={}, headers=headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "wrong_role"


async def test_bad_token_is_401(client):
    response = await client.get("/cases", headers={"Authorization": "Bearer ee_nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
