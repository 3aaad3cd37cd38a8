"""Mock business (market regulation) registry: company facts and equity stakes, equity freezes.

Style: the registry's own UPPERCASE field names (ENTNAME, UNISCID, REGCAP ...), capital in
万元 as decimal strings, an envelope ``{"status": 0, "message", "result"}`` whose non-zero
status is the HTTP status × 100. Equity freezes are published (公示) with a publicity number.

    GET  /api/investor?cerno=<person ID>     stakes of a person
    GET  /api/investor?uniscid=<credit code> a company's registration and its stakes
    POST /api/equity-freezes                 {INV_CERNO, STAKE_ID, COURT, CASENO, DOCNO, FRZ_TO}
    GET  /api/equity-freezes/{id}            the freeze's state (FRZSTATE) and end date
    POST /api/equity-freezes/{id}/continue   {FRZ_TO}  续行冻结 before expiry (Idempotency-Key)
    POST /api/equity-freezes/{id}/unfreeze
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from connectors.mock import data
from connectors.mock.book import BookError, Freeze, FreezeBook
from connectors.mock.ids import looks_like_credit_code, looks_like_person_id

_FRZSTATE = {"active": "1", "queued": "2", "released": "3", "expired": "4", "rejected": "9"}


class EquityFreezeIn(BaseModel):
    """An equity freeze notice (股权冻结)."""

    INV_CERNO: str
    STAKE_ID: str
    COURT: str
    CASENO: str
    DOCNO: str
    FRZ_TO: dt.date


class ContinueIn(BaseModel):
    """A continued freeze notice (续行冻结)."""

    FRZ_TO: dt.date


def _wan(fen: int) -> str:
    return f"{Decimal(fen) / 1_000_000:.4f}"


def _ok(result: Any) -> dict[str, Any]:
    return {"status": 0, "message": "ok", "result": result}


def _freeze_out(freeze: Freeze) -> dict[str, Any]:
    return {
        "FREEZE_ID": freeze.freeze_id,
        "STAKE_ID": freeze.asset_ref,
        "INV_CERNO": freeze.holder,
        "FRZSTATE": _FRZSTATE[freeze.state],
        "FRZ_TO": freeze.until.isoformat(),
        "FRZAM": _wan(freeze.frozen),
        "PUBLISHED": freeze.state in ("active", "queued"),
        "PUBLICITY_NO": f"GS{freeze.freeze_id}",
    }


def create_app(book: FreezeBook | None = None) -> FastAPI:
    """The business registry app with its own equity-freeze book."""
    app = FastAPI(title="Mock business registry")
    app.state.book = book = book or FreezeBook("EF")

    @app.exception_handler(BookError)
    async def book_error(request: Request, exc: BookError) -> JSONResponse:
        return JSONResponse(
            {"status": exc.status * 100, "message": exc.message, "result": None},
            status_code=exc.status,
        )

    @app.get("/api/investor")
    async def investor(cerno: str | None = None, uniscid: str | None = None) -> dict[str, Any]:
        if cerno and looks_like_person_id(cerno):
            key, entity = cerno, None
        elif uniscid and looks_like_credit_code(uniscid):
            key, company = uniscid, data.company(uniscid)
            entity = company and {
                "ENTNAME": company.name,
                "UNISCID": company.credit_code,
                "LEREP": company.legal_representative,
                "REGCAP": _wan(company.registered_capital),
                "REGCAPCUR": "人民币",
                "ESDATE": company.established_on.isoformat(),
                "REGSTATE": company.state,
            }
        else:
            raise BookError(400, "BAD_KEY", "give cerno (person ID) or uniscid (credit code)")
        investments = [
            {
                "STAKE_ID": s.stake_id,
                "ENTNAME": s.company_name,
                "UNISCID": s.company_code,
                "SUBCONAM": _wan(s.subscribed),
                "CONPROP": f"{s.percent}%",
                "FRZSTATE": "1" if book.frozen_amount(s.stake_id) or s.encumbered_by else "0",
            }
            for s in data.stakes(key)
        ]
        return _ok({"ENTITY": entity, "INVESTMENTS": investments})

    @app.post("/api/equity-freezes", status_code=201)
    async def freeze(body: EquityFreezeIn, idempotency_key: str = Header()) -> dict[str, Any]:
        stake = next((s for s in data.stakes(body.INV_CERNO) if s.stake_id == body.STAKE_ID), None)
        if stake is None:
            raise BookError(404, "NO_STAKE", f"{body.INV_CERNO} holds no stake {body.STAKE_ID}")
        record = book.place(
            idempotency_key,
            stake.stake_id,
            capacity=stake.subscribed,
            amount_based=False,
            asked=None,
            court_code=body.COURT,
            case_number=body.CASENO,
            order_number=body.DOCNO,
            until=body.FRZ_TO,
            prior_court=stake.encumbered_by,
            holder=body.INV_CERNO,
        )
        return _ok(_freeze_out(record))

    @app.get("/api/equity-freezes/{freeze_id}")
    async def freeze_state(freeze_id: str) -> dict[str, Any]:
        return _ok(_freeze_out(book.get(freeze_id)))

    @app.post("/api/equity-freezes/{freeze_id}/continue", status_code=201)
    async def renew(
        freeze_id: str, body: ContinueIn, idempotency_key: str = Header()
    ) -> dict[str, Any]:
        return _ok(_freeze_out(book.renew(idempotency_key, freeze_id, body.FRZ_TO)))

    @app.post("/api/equity-freezes/{freeze_id}/unfreeze")
    async def unfreeze(freeze_id: str) -> dict[str, Any]:
        record, promoted = book.release(freeze_id)
        return _ok(
            {**_freeze_out(record), "PROMOTED_FREEZE_ID": promoted.freeze_id if promoted else None}
        )

    return app
