"""Mock traffic-police vehicle registry: a synchronous GET by owner ID, seizures (查封).

Style: camelCase JSON without an envelope, valuations in whole yuan, ISO dates, errors as
``{"error": {"code": ..., "message": ...}}``.

    GET    /owners/{ownerIdNo}/vehicles     {"ownerIdNo", "count", "vehicles": [...]}
    POST   /seizures                        {ownerIdNo, vin, courtCode, caseNo, orderNo, expiresOn}
    GET    /seizures/{seizureId}            the seizure's status and expiry
    POST   /seizures/{seizureId}/extensions {expiresOn}  续行 before expiry (Idempotency-Key)
    DELETE /seizures/{seizureId}            lifts it; the earliest waitlisted one takes effect
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from connectors.mock import data
from connectors.mock.book import BookError, Freeze, FreezeBook
from connectors.mock.ids import is_valid_vin, looks_like_credit_code, looks_like_person_id

_STATUS = {
    "active": "EFFECTIVE",
    "queued": "WAITLISTED",
    "rejected": "REFUSED",
    "released": "LIFTED",
    "expired": "EXPIRED",
}


class SeizureIn(BaseModel):
    """A seizure order as the traffic police take it."""

    ownerIdNo: str
    vin: str
    courtCode: str
    caseNo: str
    orderNo: str
    expiresOn: dt.date


class ExtensionIn(BaseModel):
    """A seizure extension (续行查封)."""

    expiresOn: dt.date


def _seizure_out(freeze: Freeze) -> dict[str, Any]:
    return {
        "seizureId": freeze.freeze_id,
        "vin": freeze.asset_ref,
        "ownerIdNo": freeze.holder,
        "status": _STATUS[freeze.state],
        "expiresOn": freeze.until.isoformat(),
        "valuationYuan": freeze.frozen // 100,
    }


def create_app(book: FreezeBook | None = None) -> FastAPI:
    """The vehicle registry app with its own seizure book."""
    app = FastAPI(title="Mock vehicle registry")
    app.state.book = book = book or FreezeBook("VS")

    @app.exception_handler(BookError)
    async def book_error(request: Request, exc: BookError) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status
        )

    @app.get("/owners/{owner_id}/vehicles")
    async def owner_vehicles(owner_id: str) -> dict[str, Any]:
        if not (looks_like_person_id(owner_id) or looks_like_credit_code(owner_id)):
            raise BookError(400, "BAD_OWNER_ID", "not an ID number or credit code")
        vehicles = [
            {
                "plateNo": v.plate,
                "vin": v.vin,
                "brand": v.brand,
                "model": v.model,
                "firstRegistered": v.registered_on.isoformat(),
                "valuationYuan": v.value // 100,
                "seized": bool(book.frozen_amount(v.vin)),
            }
            for v in data.vehicles(owner_id)
        ]
        return {"ownerIdNo": owner_id.upper(), "count": len(vehicles), "vehicles": vehicles}

    @app.post("/seizures", status_code=201)
    async def seize(body: SeizureIn, idempotency_key: str = Header()) -> dict[str, Any]:
        if not is_valid_vin(body.vin):
            raise BookError(400, "BAD_VIN", "VIN fails its check digit")
        vehicle = next((v for v in data.vehicles(body.ownerIdNo) if v.vin == body.vin), None)
        if vehicle is None:
            raise BookError(404, "NO_VEHICLE", "owner has no such vehicle")
        record = book.place(
            idempotency_key,
            vehicle.vin,
            capacity=vehicle.value,
            amount_based=False,
            asked=None,
            court_code=body.courtCode,
            case_number=body.caseNo,
            order_number=body.orderNo,
            until=body.expiresOn,
            holder=body.ownerIdNo,
        )
        return _seizure_out(record)

    @app.get("/seizures/{seizure_id}")
    async def seizure(seizure_id: str) -> dict[str, Any]:
        return _seizure_out(book.get(seizure_id))

    @app.post("/seizures/{seizure_id}/extensions", status_code=201)
    async def extend(
        seizure_id: str, body: ExtensionIn, idempotency_key: str = Header()
    ) -> dict[str, Any]:
        return _seizure_out(book.renew(idempotency_key, seizure_id, body.expiresOn))

    @app.delete("/seizures/{seizure_id}")
    async def lift(seizure_id: str) -> dict[str, Any]:
        record, promoted = book.release(seizure_id)
        return {
            **_seizure_out(record),
            "promotedSeizureId": promoted.freeze_id if promoted else None,
        }

    return app
