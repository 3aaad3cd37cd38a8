"""Webhooks: signed per Standard Webhooks, in order per subscription, retried with backoff,
disabled after a long run of failures and resumed from where they stopped."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator

import pytest

from blacklist import webhooks
from blacklist.models import WebhookSubscription
from enforcement.core import db, jobs
from tests.blacklist.conftest import list_party, listed_case
from tests.blacklist.receiver import Receiver
from tests.conftest import REDIS_URL, requires_redis
from tests.factories import create_case


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    live = Receiver()
    await live.start()
    yield live
    await live.stop()


async def subscribe(client, credit, receiver: Receiver, **extra) -> dict:
    response = await client.post("/webhooks", json={"url": receiver.url, **extra}, headers=credit)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["secret"].startswith("whsec_")
    receiver.secret = body["secret"]
    return body


async def _subscription(webhook_id: int) -> WebhookSubscription:
    async with db.unit_of_work() as s:
        row = await s.get(WebhookSubscription, webhook_id)
        assert row is not None
        return row


async def test_deliveries_are_signed_and_in_order(client, officer, credit, receiver, runner):
    await listed_case(client, officer)  # before the subscription: not delivered
    hook = await subscribe(client, credit, receiver)
    assert hook["delivered_seq"] == 2
    assert "secret" not in (await client.get(f"/webhooks/{hook['id']}", headers=credit)).json()
    for _ in range(3):
        await listed_case(client, officer)
    await runner.run_due()
    assert receiver.ids == [f"msg_{n}" for n in range(3, 9)]
    assert receiver.rejected == []
    first = receiver.received[0][1]
    assert first["type"] == "listing.listed"
    assert first["data"]["seq"] == 3
    assert first["data"]["listing"]["id_number"]
    assert (await _subscription(hook["id"])).delivered_seq == 8
    log = (await client.get(f"/webhooks/{hook['id']}/deliveries", headers=credit)).json()
    assert len(log) == 6 and all(d["ok"] and d["status_code"] == 204 for d in log)


async def test_thin_payload_and_type_filter(client, officer, credit, receiver, runner):
    await subscribe(client, credit, receiver, payload="thin", types=["removed"])
    _, listing = await listed_case(client, officer)
    await client.post(
        f"/listings/{listing['id']}/removal", json={"reason": "performed"}, headers=officer
    )
    await runner.run_due()
    assert receiver.ids == ["msg_3", "msg_4"]
    data = receiver.received[0][1]["data"]
    assert data == {
        "seq": 3,
        "type": "removed",
        "at": data["at"],
        "listing_id": listing["id"],
        "version": 2,
    }


async def test_receiver_down_for_an_hour_gets_everything_once_in_order(
    client, officer, credit, runner, frozen_clock
):
    receiver = Receiver()  # nobody listens on its port yet
    hook = await subscribe(client, credit, receiver)
    start = frozen_clock.now()
    await listed_case(client, officer)
    await runner.run_due()
    row = await _subscription(hook["id"])
    assert row.failures == 1 and row.delivered_seq == 0
    assert row.next_attempt_at == start + dt.timedelta(seconds=5)
    while frozen_clock.now() - start < dt.timedelta(hours=1):  # retries keep failing
        await listed_case(client, officer)  # later events wait behind the failed one
        frozen_clock.set((await _subscription(hook["id"])).next_attempt_at)
        await runner.run_due()
    row = await _subscription(hook["id"])
    assert row.status == "active" and row.failures >= 5 and row.delivered_seq == 0
    await receiver.start()
    try:
        frozen_clock.set(row.next_attempt_at)
        await runner.run_due()
        head = (
            await client.get("/feed", params={"after": 0, "limit": 1000}, headers=credit)
        ).json()["next"]
        assert receiver.ids == [f"msg_{n}" for n in range(1, head + 1)]
        assert receiver.rejected == []
        assert (await _subscription(hook["id"])).failures == 0
    finally:
        await receiver.stop()


async def test_a_failing_subscription_blocks_only_itself(client, officer, credit, receiver, runner):
    dead = Receiver()
    await subscribe(client, credit, dead)
    await subscribe(client, credit, receiver)
    for _ in range(2):
        await listed_case(client, officer)
    await runner.run_due()
    assert receiver.ids == ["msg_1", "msg_2", "msg_3", "msg_4"]


async def test_long_failure_disables_and_enable_resumes(
    client, officer, credit, runner, frozen_clock
):
    receiver = Receiver()
    hook = await subscribe(client, credit, receiver)
    await listed_case(client, officer)
    await runner.run_due()
    for _ in webhooks.BACKOFF_SECONDS:
        frozen_clock.set((await _subscription(hook["id"])).next_attempt_at)
        await runner.run_due()
    row = await _subscription(hook["id"])
    assert row.status == "disabled"
    assert row.failures == len(webhooks.BACKOFF_SECONDS) + 1
    await listed_case(client, officer)  # while disabled: nothing is attempted
    await runner.run_due()
    assert (await _subscription(hook["id"])).failures == row.failures
    await receiver.start()
    try:
        response = await client.post(f"/webhooks/{hook['id']}/enable", headers=credit)
        assert response.status_code == 200
        assert response.json()["status"] == "active"
        await runner.run_due()
        assert receiver.ids == ["msg_1", "msg_2", "msg_3", "msg_4"]
    finally:
        await receiver.stop()


async def test_a_receiver_error_status_is_retried(
    client, officer, credit, receiver, runner, frozen_clock
):
    hook = await subscribe(client, credit, receiver)
    receiver.status = 503
    await listed_case(client, officer)
    await runner.run_due()
    row = await _subscription(hook["id"])
    assert row.last_error == "HTTP 503"
    receiver.status = 204
    frozen_clock.set(row.next_attempt_at)
    await runner.run_due()
    assert receiver.ids == ["msg_1", "msg_2"]
    log = (await client.get(f"/webhooks/{hook['id']}/deliveries", headers=credit)).json()
    assert [(d["seq"], d["attempt"], d["ok"]) for d in reversed(log)] == [
        (1, 1, False),
        (1, 2, True),
        (2, 1, True),
    ]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "not a url", "http://", "javascript:alert(1)"]
)
async def test_webhook_url_must_be_http(client, credit, url):
    response = await client.post("/webhooks", json={"url": url}, headers=credit)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_webhook_url"


async def test_subscriptions_belong_to_their_token(client, credit, make_token, receiver):
    hook = await subscribe(client, credit, receiver)
    other = await make_token("credit", name="other-bureau")
    assert (await client.get("/webhooks", headers=other)).json() == []
    assert (await client.get(f"/webhooks/{hook['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/webhooks/{hook['id']}", headers=other)).status_code == 404
    assert [h["id"] for h in (await client.get("/webhooks", headers=credit)).json()] == [hook["id"]]
    assert (await client.delete(f"/webhooks/{hook['id']}", headers=credit)).status_code == 204
    assert (await client.get("/webhooks", headers=credit)).json() == []


@requires_redis
async def test_delivery_through_a_real_arq_worker(client, officer, credit, receiver, settings):
    from enforcement.worker import build_worker

    redis_settings = settings.model_copy(
        update={"redis_url": REDIS_URL, "queue_name": f"enf-test:{secrets.token_hex(4)}"}
    )
    backend = await jobs.ArqBackend.connect(REDIS_URL, redis_settings.queue_name)
    previous = jobs.set_backend(backend)
    try:
        await subscribe(client, credit, receiver)
        case = await create_case(client, officer)
        await list_party(client, officer, case)
        worker = build_worker(redis_settings, burst=True, poll_delay=0.01)
        worker.on_startup = None  # the test already configured the database
        worker.on_shutdown = None
        await worker.main()
        await worker.close()
    finally:
        jobs.set_backend(previous)
        await backend.close()
    assert receiver.ids == ["msg_1", "msg_2"]


async def test_operators_retry_now_without_waiting_out_the_backoff(
    client, officer, credit, receiver, runner
):
    hook = await subscribe(client, credit, receiver)
    receiver.status = 503
    await listed_case(client, officer)
    await runner.run_due()
    waiting = await _subscription(hook["id"])
    assert waiting.failures == 1 and waiting.next_attempt_at is not None
    receiver.status = 204
    assert await webhooks.retry_now() == [(hook["id"], 2)]
    caught_up = await _subscription(hook["id"])
    assert (caught_up.failures, caught_up.delivered_seq) == (0, 2)
    assert receiver.ids == ["msg_1", "msg_2"]


def test_cli_commands_are_registered():
    from typer.testing import CliRunner

    from enforcement.cli import app

    for command in (["lists", "expire", "--help"], ["webhooks", "retry", "--help"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
