"""Mock securities depository: paginated holdings, freezes by account.

Style: versioned REST, snake_case abbreviations, prices and values as decimal strings in yuan,
pagination by ``offset``/``limit`` with a ``links.next`` URL, errors as RFC 7807 problems.

    GET    /v2/holders/{holder}/holdings?offset=0&limit=5     one line per (account, security)
    PUT    /v2/holders/{holder}/accounts/{account_id}/freeze  {court, case, instrument, valid_until}
    GET    /v2/freezes/{ref}                                  the freeze's state and validity
    POST   /v2/freezes/{ref}/renewal                          {valid_until} (Idempotency-Key)
    DELETE /v2/freezes/{ref}
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

MAX_LIMIT = 5
_STATE = {
    "active": "in_force",
    "queued": "pending_queue",
    "rejected": "refused",
    "released": "lifted",
    "expired": "lapsed",
}


class FreezeIn(BaseModel):
    """A freeze instruction for a whole account."""

    court: str
    case: str
    instrument: str
    valid_until: dt.date


class RenewalIn(BaseModel):
    """A renewal instruction (续冻)."""

    valid_until: dt.date


def _yuan(fen: int) -> str:
    return str(Decimal(fen) / 100)


def _freeze_out(freeze: Freeze) -> dict[str, Any]:
    return {
        "ref": freeze.freeze_id,
        "account_id": freeze.asset_ref,
        "holder": freeze.holder,
        "state": _STATE[freeze.state],
        "valid_until": freeze.until.isoformat(),
        "market_value": _yuan(freeze.frozen),
    }


def _problem(status: int, title: str, detail: str) -> BookError:
    return BookError(status, title, detail)


def create_app(book: FreezeBook | None = None) -> FastAPI:
    """The depository app with its own freeze book."""
    app = FastAPI(title="Mock securities depository")
    app.state.book = book = book or FreezeBook("SF")

    @app.exception_handler(BookError)
    async def problem(request: Request, exc: BookError) -> JSONResponse:
        return JSONResponse(
            {
                "type": f"urn:depository:{exc.code.lower()}",
                "title": exc.code,
                "status": exc.status,
                "detail": exc.message,
            },
            status_code=exc.status,
            media_type="application/problem+json",
        )

    @app.get("/v2/holders/{holder}/holdings")
    async def holdings(
        holder: str, request: Request, offset: int = 0, limit: int = MAX_LIMIT
    ) -> dict[str, Any]:
        if not (looks_like_person_id(holder) or looks_like_credit_code(holder)):
            raise _problem(400, "BAD_HOLDER", "holder is not an ID number or credit code")
        if offset < 0 or limit < 1:
            raise _problem(400, "BAD_PAGE", "offset >= 0 and limit >= 1")
        limit = min(limit, MAX_LIMIT)
        lines = [
            {
                "acct": acc.account_id,
                "mkt": acc.market,
                "sec_code": h.code,
                "sec_name": h.name,
                "qty": h.shares,
                "px": h.price,
                "acct_frozen": bool(book.frozen_amount(acc.account_id))
                or acc.encumbered_by is not None,
            }
            for acc in data.securities_accounts(holder)
            for h in acc.holdings
        ]
        page = lines[offset : offset + limit]
        more = offset + limit < len(lines)
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
        return {
            "data": page,
            "meta": {"total": len(lines), "offset": offset, "limit": limit},
            "links": {"next": following if more else None},
        }

    @app.put("/v2/holders/{holder}/accounts/{account_id}/freeze", status_code=201)
    async def freeze(
        holder: str, account_id: str, body: FreezeIn, idempotency_key: str = Header()
    ) -> dict[str, Any]:
        account = next(
            (a for a in data.securities_accounts(holder) if a.account_id == account_id), None
        )
        if account is None:
            raise _problem(404, "NO_ACCOUNT", f"{holder} holds no account {account_id}")
        record = book.place(
            idempotency_key,
            account.account_id,
            capacity=account.value,
            amount_based=False,
            asked=None,
            court_code=body.court,
            case_number=body.case,
            order_number=body.instrument,
            until=body.valid_until,
            prior_court=account.encumbered_by,
            holder=holder,
        )
        return {"freeze": _freeze_out(record)}

    @app.get("/v2/freezes/{ref}")
    async def freeze_state(ref: str) -> dict[str, Any]:
        return {"freeze": _freeze_out(book.get(ref))}

    @app.post("/v2/freezes/{ref}/renewal", status_code=201)
    async def renew(ref: str, body: RenewalIn, idempotency_key: str = Header()) -> dict[str, Any]:
        return {"freeze": _freeze_out(book.renew(idempotency_key, ref, body.valid_until))}

    @app.delete("/v2/freezes/{ref}")
    async def lift(ref: str) -> dict[str, Any]:
        record, promoted = book.release(ref)
        return {"freeze": _freeze_out(record), "promoted": promoted.freeze_id if promoted else None}

    return app
