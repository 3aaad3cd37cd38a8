"""Platform endpoints: health and (demo only) time travel."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import text

from enforcement.core import clock, clock_store
from enforcement.core.deps import Admin, Session
from enforcement.core.errors import NotFound
from enforcement.core.schemas import ERROR_RESPONSES, Schema
from enforcement.core.settings import get_settings

router = APIRouter(tags=["platform"], responses=ERROR_RESPONSES)
public_router = APIRouter(tags=["platform"])


class Health(Schema):
    status: str
    now: dt.datetime


class ClockMove(Schema):
    offset_seconds: int = Field(ge=0, le=10 * 365 * 86400, description="seconds ahead of the wall")


class ClockRead(Schema):
    now: dt.datetime
    offset_seconds: int


@public_router.get("/healthz", response_model=Health, summary="Health")
async def healthz(session: Session) -> Health:
    """200 when the database answers."""
    await session.execute(text("SELECT 1"))
    return Health(status="ok", now=clock.now())


def _time_travel_allowed() -> None:
    if not get_settings().allow_time_travel:
        raise NotFound("time travel is disabled", code="not_found")


@router.get("/admin/clock", response_model=ClockRead, summary="Service clock")
async def read_clock(session: Session, principal: Admin) -> ClockRead:
    _time_travel_allowed()
    await clock_store.refresh(session, force=True)
    return ClockRead(now=clock.now(), offset_seconds=_offset())


@router.post("/admin/clock", response_model=ClockRead, summary="Move the service clock")
async def move_clock(body: ClockMove, session: Session, principal: Admin) -> ClockRead:
    """Run the service clock ahead of the wall (demos; needs ENFORCEMENT_ALLOW_TIME_TRAVEL)."""
    _time_travel_allowed()
    await clock_store.set_offset(session, body.offset_seconds)
    return ClockRead(now=clock.now(), offset_seconds=body.offset_seconds)


def _offset() -> int:
    current = clock.get_clock()
    return int(current.offset_seconds) if isinstance(current, clock.SystemClock) else 0
