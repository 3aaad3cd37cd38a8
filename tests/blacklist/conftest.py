"""Helpers for the lists tests: a credit token and listings made through the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.factories import create_case


@pytest.fixture
async def credit(make_token: TokenFactory) -> dict[str, str]:
    """A credit-system token."""
    return await make_token("credit", name="credit-bureau")


async def list_party(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case: dict[str, Any],
    *,
    index: int = 0,
    kind: str = "dishonest",
    grounds: list[str] | None = None,
    expect: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    """POST /listings for a respondent of ``case``; returns the JSON."""
    body = {
        "case_id": case["id"],
        "party_id": case["respondents"][index]["id"],
        "kind": kind,
        "grounds": ["obstructs_enforcement"]
        if grounds is None and kind == "dishonest"
        else grounds or [],
        **extra,
    }
    response = await client.post("/listings", json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


async def listed_case(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new case whose first respondent is on the defaulter list."""
    case = await create_case(client, headers, **overrides)
    return case, await list_party(client, headers, case)


async def read_feed(
    client: httpx.AsyncClient, headers: dict[str, str], after: int = 0
) -> list[dict[str, Any]]:
    """Every event after ``after``, following ``next``."""
    events: list[dict[str, Any]] = []
    while True:
        response = await client.get("/feed", params={"after": after, "limit": 50}, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["events"])
        if page["next"] == after:
            return events
        after = page["next"]
