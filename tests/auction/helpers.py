"""Plain async factories for auction tests: frozen assets, auctions, bidders, deposits."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx

from enforcement.assets.models import Asset, Freeze
from enforcement.core import clock, db
from tests.factories import create_case, credit_code, person_id

DAY = dt.timedelta(days=1)
_REFS = itertools.count(1)  # unique per process; id(session) can repeat once freed


async def frozen_asset(
    case_id: int,
    party_id: int,
    *,
    kind: str = "vehicle",
    value: int = 100_000_000,
    freeze: str | None = "active",
) -> int:
    """An asset of the case's respondent under a freeze (status ``freeze``; None = no freeze)."""
    now = clock.now()
    async with db.unit_of_work() as session:
        asset = Asset(
            case_id=case_id,
            party_id=party_id,
            registry_name="vehicle",
            kind=kind,
            registry_ref=f"ref-{kind}-{next(_REFS)}",
            description=f"a {kind}",
            value=value,
            currency="CNY",
            holder="张三",
            raw={},
            status="present",
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(asset)
        await session.flush()
        if freeze is not None:
            session.add(
                Freeze(
                    asset_id=asset.id,
                    case_id=case_id,
                    status=freeze,
                    requested=value,
                    frozen=value,
                    deducted=0,
                    starts_on=clock.today(),
                    expires_on=clock.today() + 3 * 365 * DAY,
                    order_number=f"order-{asset.id}",
                    idempotency_key=f"freeze-{asset.id}",
                    created_at=now,
                    updated_at=now,
                )
            )
        return asset.id


async def case_with_asset(
    client: httpx.AsyncClient, officer: dict[str, str], **asset: Any
) -> tuple[dict[str, Any], int]:
    """A case of 甘0602 and a frozen asset of its respondent."""
    case = await create_case(client, officer)
    asset_id = await frozen_asset(case["id"], case["respondents"][0]["id"], **asset)
    return case, asset_id


def auction_body(asset_id: int, **overrides: Any) -> dict[str, Any]:
    """A valid first auction of a vehicle: ¥1M appraisal, ¥700k start, 16 days' notice."""
    starts = clock.now() + 16 * DAY
    body: dict[str, Any] = {
        "asset_id": asset_id,
        "appraisal_price": "1000000.00",
        "starting_price": "700000.00",
        "deposit": "70000.00",
        "increment": "10000.00",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + DAY).isoformat(),
    }
    body.update(overrides)
    return body


async def new_auction(
    client: httpx.AsyncClient, officer: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """Announce a fresh auction through the API and return its JSON (plus ``case``)."""
    case, asset_id = await case_with_asset(client, officer)
    response = await client.post(
        "/auctions", json=auction_body(asset_id, **overrides), headers=officer
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "case": case}


async def new_bidder(
    client: httpx.AsyncClient, name: str = "王五", id_number: str | None = None
) -> tuple[int, dict[str, str], str]:
    """Sign a person up; returns (bidder id, auth headers, id number)."""
    number = id_number or person_id()
    response = await client.post(
        "/bidders", json={"name": name, "id_number": number, "phone": "13800000000"}
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return data["id"], {"Authorization": f"Bearer {data['token']}"}, number


async def registered_bidder(
    client: httpx.AsyncClient, auction_id: int, name: str = "王五", id_number: str | None = None
) -> dict[str, str]:
    """A bidder who paid the deposit of ``auction_id``; returns its headers."""
    _, headers, _ = await new_bidder(client, name, id_number)
    response = await client.post(f"/auctions/{auction_id}/registrations", headers=headers)
    assert response.status_code == 201, response.text
    return headers


def org_code() -> str:
    """A valid credit code (organizations bid too)."""
    return credit_code()


async def bid(
    client: httpx.AsyncClient,
    auction_id: int,
    headers: dict[str, str],
    amount: str,
    **extra: Any,
) -> httpx.Response:
    """POST a bid."""
    return await client.post(
        f"/auctions/{auction_id}/bids", json={"amount": amount, **extra}, headers=headers
    )
