"""Renewal (续行) and freeze status for every connector, in-process and over real HTTP; the
mock books' "today" follows ``X-Mock-Today`` when the connector is configured to send it."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from starlette.applications import Starlette

from connectors.base import FreezeRequest
from connectors.errors import NotSupported, PermanentError
from connectors.http import load_today
from connectors.mock import data
from connectors.mock.server import MockSettings, build_app, state_of

from .conftest import Build
from .test_connectors import RICH, person

REGISTRIES = ["bank", "vehicle", "securities", "business"]
START = dt.date(2030, 1, 10)
_today = [START]


def fake_today() -> dt.date:
    """The date the connectors send as ``X-Mock-Today`` in these tests."""
    return _today[0]


@pytest.fixture(autouse=True)
def reset_today() -> None:
    """Every test starts on ``START``."""
    _today[0] = START


def order(ref: str, until: dt.date, court: str = "J1101") -> FreezeRequest:
    return FreezeRequest(
        registry_ref=ref,
        court_code=court,
        case_number="(2030)京0101执1号",
        order_number=f"(2030)京0101执1号之{court}",
        until=until,
        idempotency_key=uuid.uuid4().hex,
    )


@pytest.mark.parametrize("registry", REGISTRIES)
async def test_renew_extends_the_registry_expiry_once_per_key(build: Build, registry: str) -> None:
    connector = build(registry, mock_today_from=f"{__name__}:fake_today")[registry]
    asset = (await connector.query(person())).assets[0]
    placed = await connector.freeze(order(asset.registry_ref, START + dt.timedelta(days=30)))
    assert placed.status == "active" and placed.registry_freeze_id
    later = START + dt.timedelta(days=400)

    renewed = await connector.renew(placed.registry_freeze_id, later, "renew-1")
    again = await connector.renew(placed.registry_freeze_id, later, "renew-1")
    assert renewed == again
    assert (renewed.status, renewed.until) == ("active", later)
    assert renewed.registry_ref == asset.registry_ref
    assert renewed.frozen == placed.frozen

    status = await connector.freeze_status(placed.registry_freeze_id)
    assert (status.status, status.until, status.frozen) == ("active", later, placed.frozen)
    with pytest.raises(PermanentError):  # not later than the current expiry
        await connector.renew(placed.registry_freeze_id, later, "renew-2")


@pytest.mark.parametrize("registry", REGISTRIES)
async def test_lost_renewal_answer_is_retried_with_the_same_key(
    build: Build, registry: str, target: tuple[str, Starlette]
) -> None:
    connector = build(registry)[registry]
    asset = (await connector.query(person())).assets[0]
    until = dt.date.today() + dt.timedelta(days=60)
    placed = await connector.freeze(order(asset.registry_ref, until))
    assert placed.registry_freeze_id
    dropping = build(
        registry, headers={"X-Mock-Drop-After": "1", "X-Mock-Fault-Scope": uuid.uuid4().hex}
    )[registry]
    renewed = await dropping.renew(placed.registry_freeze_id, until + dt.timedelta(days=300), "k")
    assert renewed.until == until + dt.timedelta(days=300)
    book = state_of(target[1]).books[registry]
    assert book.freezes[placed.registry_freeze_id].renewals == 1, "renewed once despite the retry"


@pytest.mark.parametrize("registry", REGISTRIES)
async def test_registry_expiry_follows_the_callers_clock(build: Build, registry: str) -> None:
    connector = build(registry, mock_today_from=f"{__name__}:fake_today")[registry]
    asset = (await connector.query(person())).assets[0]
    first = await connector.freeze(order(asset.registry_ref, START + dt.timedelta(days=10)))
    second = await connector.freeze(
        order(asset.registry_ref, START + dt.timedelta(days=500), court="J3101")
    )
    assert (first.status, second.status) == ("active", "queued")
    assert first.registry_freeze_id and second.registry_freeze_id
    queued = await connector.freeze_status(second.registry_freeze_id)
    assert (queued.status, queued.frozen) == ("queued", 0)

    _today[0] = START + dt.timedelta(days=10)  # the last day: still in force
    assert (await connector.freeze_status(first.registry_freeze_id)).status == "active"
    _today[0] = START + dt.timedelta(days=11)
    lapsed = await connector.freeze_status(first.registry_freeze_id)
    assert (lapsed.status, lapsed.frozen) == ("expired", 0)
    promoted = await connector.freeze_status(second.registry_freeze_id)
    assert promoted.status == "active" and promoted.frozen > 0
    assert promoted.until == START + dt.timedelta(days=500)
    with pytest.raises(PermanentError):
        await connector.renew(first.registry_freeze_id, START + dt.timedelta(days=300), "late")


@pytest.mark.parametrize("registry", REGISTRIES)
async def test_status_after_release_and_promotion(build: Build, registry: str) -> None:
    connector = build(registry)[registry]
    asset = (await connector.query(person())).assets[0]
    until = dt.date.today() + dt.timedelta(days=90)
    first = await connector.freeze(order(asset.registry_ref, until))
    second = await connector.freeze(order(asset.registry_ref, until, court="J3101"))
    assert first.registry_freeze_id and second.registry_freeze_id
    await connector.release(first.registry_freeze_id)
    released = await connector.freeze_status(first.registry_freeze_id)
    assert (released.status, released.frozen) == ("released", 0)
    assert (await connector.freeze_status(second.registry_freeze_id)).status == "active"
    with pytest.raises(PermanentError):
        await connector.freeze_status("NO-SUCH-FREEZE")


async def test_without_the_header_the_books_use_the_configured_date() -> None:
    app = build_app(MockSettings(today=dt.date(2031, 5, 1)))
    assert state_of(app).books["bank"].today() == dt.date(2031, 5, 1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mock"
    ) as client:
        bad = await client.get("/vehicle/seizures/X", headers={"X-Mock-Today": "yesterday"})
        assert bad.status_code == 400
        vehicle = data.assets_for(RICH).vehicles[0]
        body = {
            "ownerIdNo": RICH,
            "vin": vehicle.vin,
            "courtCode": "J1101",
            "caseNo": "c",
            "orderNo": "o",
            "expiresOn": "2031-04-30",
        }
        past = await client.post("/vehicle/seizures", json=body, headers={"Idempotency-Key": "a"})
        assert past.status_code == 400, "ends before the configured today"
        header = {"Idempotency-Key": "b", "X-Mock-Today": "2031-04-01"}
        ok = await client.post("/vehicle/seizures", json=body, headers=header)
        assert ok.status_code == 201, "the header wins over the setting"


def test_mock_today_from_must_name_a_function() -> None:
    assert load_today(f"{__name__}:fake_today")() == START
    with pytest.raises(ValueError, match="does not name a function"):
        load_today("no.such.module:today")
    with pytest.raises(ValueError, match="not callable"):
        load_today(f"{__name__}:START")


async def test_partial_release_of_a_deposit_keeps_rank_and_feeds_the_queue(
    build: Build, target: tuple[str, Starlette]
) -> None:
    connectors = build()
    bank = connectors["bank"]
    account = data.assets_for(RICH).bank_accounts[0]
    ref = f"{RICH}:{account.account_no}"
    until = dt.date.today() + dt.timedelta(days=90)
    first = await bank.freeze(order(ref, until))
    second = await bank.freeze(order(ref, until, court="J3101"))
    assert first.registry_freeze_id and second.registry_freeze_id
    assert (first.frozen, second.status) == (account.balance, "queued")

    cut = await bank.reduce(first.registry_freeze_id, 3000, "cut-1")
    assert cut == await bank.reduce(first.registry_freeze_id, 3000, "cut-1")
    assert (cut.status, cut.frozen, cut.until) == ("active", account.balance - 3000, until)
    promoted = await bank.freeze_status(second.registry_freeze_id)
    assert (promoted.status, promoted.frozen) == ("active", 3000)
    with pytest.raises(PermanentError):
        await bank.reduce(first.registry_freeze_id, account.balance, "cut-2")
    with pytest.raises(NotSupported):
        await connectors["vehicle"].reduce("X", 1, "k")
