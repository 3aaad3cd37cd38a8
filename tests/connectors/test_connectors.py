"""Each connector against its mock registry, in-process (ASGITransport) and over real HTTP."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette

from connectors.base import Connector, FreezeRequest, PendingQuery, QueryResult, Subject
from connectors.errors import NotSupported, PermanentError
from connectors.mock import data
from connectors.mock.server import state_of

from .conftest import Build

UNTIL = dt.date.today() + dt.timedelta(days=365)
RICH = data.find_identifier(
    lambda a: bool(
        len(a.bank_accounts) > 1
        and all(acc.balance and not acc.encumbered_by for acc in a.bank_accounts)
        and a.vehicles
        and sum(len(acc.holdings) for acc in a.securities_accounts) > 3
        and a.stakes
        and not any(s.encumbered_by for s in a.securities_accounts)
        and not any(s.encumbered_by for s in a.stakes)
    )
)
NOTHING = data.find_identifier(lambda a: not a.owns_anything)
COMPANY = data.find_identifier(lambda a: bool(a.stakes), kind="organization")


def person(identifier: str = RICH) -> Subject:
    return Subject(kind="person", name="张三", id_number=identifier)


def order(
    ref: str, court: str = "J1101", amount: int | None = None, key: str | None = None
) -> FreezeRequest:
    return FreezeRequest(
        registry_ref=ref,
        amount=amount,
        court_code=court,
        case_number="(2025)京0101执1号",
        order_number="(2025)京0101执1号之一",
        until=UNTIL,
        idempotency_key=key or uuid.uuid4().hex,
    )


async def test_every_connector_reports_what_the_subject_owns(build: Build) -> None:
    connectors = build()
    expected = data.assets_for(RICH)
    results = {name: await c.query(person()) for name, c in connectors.items()}
    assert all(isinstance(c, Connector) for c in connectors.values())

    bank = {a.registry_ref: a.value for a in results["bank"].assets}
    assert bank == {f"{RICH}:{acc.account_no}": acc.balance for acc in expected.bank_accounts}
    vehicles = {a.registry_ref: a.value for a in results["vehicle"].assets}
    assert vehicles == {f"{RICH}:{v.vin}": v.value for v in expected.vehicles}
    securities = {a.registry_ref: a.value for a in results["securities"].assets}
    assert securities == {f"{RICH}:{s.account_id}": s.value for s in expected.securities_accounts}
    equity = {a.registry_ref: a.value for a in results["business"].assets}
    assert equity == {f"{RICH}:{s.stake_id}": s.subscribed for s in expected.stakes}
    assert {a.kind for r in results.values() for a in r.assets} == {
        "deposit",
        "vehicle",
        "securities",
        "equity",
    }


async def test_a_subject_who_owns_nothing(build: Build) -> None:
    for connector in build().values():
        assert (await connector.query(person(NOTHING))).assets == []


async def test_company_registration_and_stakes(build: Build) -> None:
    business = build("business")["business"]
    subject = Subject(kind="organization", name="某公司", credit_code=COMPANY)
    result = await business.query(subject)
    assert result.facts["UNISCID"] == COMPANY
    assert len(result.assets) == len(data.assets_for(COMPANY).stakes)


async def test_bank_inquiry_is_asynchronous(build: Build) -> None:
    bank = build("bank")["bank"]
    pending = await bank.submit_query(person())
    assert isinstance(pending, PendingQuery)
    assert await bank.fetch_query(pending) is None  # the mock answers PROCESSING once
    result = await bank.fetch_query(pending)
    assert isinstance(result, QueryResult)
    assert result.assets


async def test_securities_pages_are_followed(build: Build, target: tuple[str, Starlette]) -> None:
    securities = build("securities", page_size=2)["securities"]
    result = await securities.query(person())
    lines = sum(len(acc.holdings) for acc in data.assets_for(RICH).securities_accounts)
    assert sum(len(a.raw["holdings"]) for a in result.assets) == lines
    assert state_of(target[1]).faults["securities"].requests == (lines + 1) // 2


async def test_partial_deposit_freeze_and_deduct(
    build: Build, target: tuple[str, Starlette]
) -> None:
    bank = build("bank")["bank"]
    account = data.assets_for(RICH).bank_accounts[0]
    ref = f"{RICH}:{account.account_no}"
    receipt = await bank.freeze(order(ref, amount=account.balance + 10_000))
    assert (receipt.status, receipt.frozen) == ("active", account.balance)
    assert receipt.reason
    assert receipt.reason.startswith("partial")

    assert receipt.registry_freeze_id
    deducted = await bank.deduct(receipt.registry_freeze_id, 5000, "deduct-1")
    again = await bank.deduct(receipt.registry_freeze_id, 5000, "deduct-1")
    assert deducted == again
    assert (deducted.deducted, deducted.remaining_frozen) == (5000, account.balance - 5000)
    assert state_of(target[1]).books["bank"].court_accounts == {"J1101": 5000}
    after = await bank.query(person())
    balances = {a.registry_ref: a.value for a in after.assets}
    assert balances[ref] == account.balance - 5000


@pytest.mark.parametrize("registry", ["bank", "vehicle", "securities", "business"])
async def test_queued_freeze_is_promoted_on_release(build: Build, registry: str) -> None:
    connector = build(registry)[registry]
    asset = (await connector.query(person())).assets[0]
    first = await connector.freeze(order(asset.registry_ref, court="J1101"))
    second = await connector.freeze(order(asset.registry_ref, court="J3101"))
    assert (first.status, second.status) == ("active", "queued")
    assert second.frozen == 0

    assert first.registry_freeze_id
    released = await connector.release(first.registry_freeze_id)
    assert released.released
    assert released.promoted_freeze_id == second.registry_freeze_id


async def test_encumbered_asset_is_queued_behind_the_other_court(build: Build) -> None:
    holder = data.find_identifier(lambda a: any(s.encumbered_by for s in a.stakes))
    stake = next(s for s in data.assets_for(holder).stakes if s.encumbered_by)
    business = build("business")["business"]
    receipt = await business.freeze(order(f"{holder}:{stake.stake_id}"))
    assert receipt.status == "queued"
    assert receipt.reason
    assert receipt.reason.startswith("published")


async def test_deduct_is_for_deposits_only(build: Build) -> None:
    connectors = build()
    for name in ("vehicle", "securities", "business"):
        with pytest.raises(NotSupported):
            await connectors[name].deduct("X1", 100, "key")


async def test_unknown_asset_is_a_permanent_error(build: Build) -> None:
    vehicle = build("vehicle")["vehicle"]
    with pytest.raises(PermanentError):
        await vehicle.freeze(order(f"{RICH}:1M8GDM9AXKP042788"))
    with pytest.raises(PermanentError):
        await vehicle.freeze(order("no-holder-in-this-ref"))


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_both_transports_over_real_http(live_server: object, transport: str) -> None:
    from connectors.registry import build_connectors

    from .conftest import FAST, PLUGINS, LiveServer

    assert isinstance(live_server, LiveServer)
    config = {
        name: {**FAST, "transport": transport, "base_url": f"{live_server.url}/{name}"}
        for name in PLUGINS
    }
    connectors = build_connectors(config, plugins=PLUGINS)
    try:
        sender = connectors["vehicle"].http.transport  # type: ignore[attr-defined]
        assert isinstance(sender, AiohttpTransport) == (transport == "aiohttp")
        for connector in connectors.values():
            assert (await connector.query(person())).assets
    finally:
        await connectors.aclose()
