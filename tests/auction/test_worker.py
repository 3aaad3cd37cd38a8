"""The close and the refunds run through a real arq worker on Redis, not the in-process runner."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from auction.lots import CLOSE_JOB
from auction.models import Auction, Registration
from enforcement.core import jobs
from tests.auction.helpers import bid, new_auction, registered_bidder
from tests.conftest import REDIS_URL, requires_postgres, requires_redis


@requires_postgres
@requires_redis
async def test_close_and_refunds_on_a_burst_arq_worker(
    settings, engine, client, officer, frozen_clock, provider, uow
):
    from enforcement.worker import build_worker

    auction = await new_auction(client, officer)
    aid = auction["id"]
    a = await registered_bidder(client, aid, "甲")
    b = await registered_bidder(client, aid, "乙")
    ends = dt.datetime.fromisoformat(auction["ends_at"])
    frozen_clock.set(ends - dt.timedelta(minutes=1))
    assert (await bid(client, aid, a, "700000.00")).status_code == 201
    late = await bid(client, aid, b, "710000.00")
    moved = dt.datetime.fromisoformat(late.json()["ends_at"])
    assert moved == ends + dt.timedelta(minutes=4)  # the late bid extended the end
    frozen_clock.set(moved + dt.timedelta(seconds=3))

    worker_settings = settings.model_copy(
        update={"redis_url": REDIS_URL, "queue_name": f"enf-test:{secrets.token_hex(4)}"}
    )
    backend = await jobs.ArqBackend.connect(REDIS_URL, worker_settings.queue_name)
    previous = jobs.set_backend(backend)
    try:
        async with uow() as s:  # what the deferred close looks like once due
            jobs.enqueue(s, CLOSE_JOB, aid, job_id=f"auction:close:{aid}:test")
        worker = build_worker(worker_settings, burst=True, poll_delay=0.01)
        worker.on_startup = None  # the test already configured the database
        worker.on_shutdown = None
        await worker.main()  # burst: runs the close, then the refunds it enqueued, then stops
        await worker.close()
    finally:
        jobs.set_backend(previous)
        await backend.close()

    async with uow() as s:
        closed = await s.get(Auction, aid)
        assert closed.status == "sold" and closed.current_price == 71_000_000
        statuses = (
            (await s.execute(select(Registration.status).where(Registration.auction_id == aid)))
            .scalars()
            .all()
        )
    assert sorted(statuses) == ["held", "refunded"]  # 乙 won (deposit kept), 甲 refunded
    assert len(provider.refunded) == 1
