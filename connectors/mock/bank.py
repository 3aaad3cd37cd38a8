"""Mock bank channel (总对总): submit an inquiry, fetch the answer later; amounts in fen.

Style: every answer is an envelope ``{"code": "0000", "msg": ..., "data": ...}``; error codes
are ``E4xx``; dates are ``YYYYMMDD``; field names snake_case with ``_fen`` money.

    POST /inquiries                         {subject_type P|O, subject_name, cert_no, purpose}
    GET  /inquiries/{inquiry_no}            state PROCESSING | DONE (+ accounts)
    POST /freezes                           {cert_no, account_no, amount_fen?, court_code,
                                             case_no, notice_no, expire_date}  (Idempotency-Key)
    GET  /freezes/{freeze_no}               the freeze as the bank holds it (state, expiry)
    POST /freezes/{freeze_no}/renewals      {expire_date}   续行 before expiry (Idempotency-Key)
    POST /freezes/{freeze_no}/release
    POST /freezes/{freeze_no}/partial-releases {amount_fen}  部分解冻 (Idempotency-Key)
    POST /freezes/{freeze_no}/deductions    {amount_fen}                         (Idempotency-Key)
    GET  /courts/{court_code}/account       the court account's balance

An inquiry answers PROCESSING ``pending_polls`` times before DONE (``X-Mock-Pending-Polls``
on the submit overrides it), so tests never depend on wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from connectors.mock import data
from connectors.mock.book import BookError, Freeze, FreezeBook
from connectors.mock.ids import looks_like_credit_code, looks_like_person_id

_STATES = {
    "active": "FROZEN",
    "queued": "WAITING",
    "rejected": "REJECTED",
    "released": "RELEASED",
    "expired": "EXPIRED",
}


class InquiryIn(BaseModel):
    """An inquiry as the bank channel takes it."""

    subject_type: str
    subject_name: str
    cert_no: str
    purpose: str = ""


class FreezeIn(BaseModel):
    """A freeze notice (冻结通知书)."""

    cert_no: str
    account_no: str
    amount_fen: int | None = None
    court_code: str
    case_no: str
    notice_no: str
    expire_date: str


class RenewIn(BaseModel):
    """A renewal notice (续行冻结通知书)."""

    expire_date: str


class DeductIn(BaseModel):
    """A deduction notice (扣划通知书)."""

    amount_fen: int


def _ok(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"code": "0000", "msg": "成功", "data": payload}, status_code=status)


def _freeze_out(freeze: Freeze) -> dict[str, Any]:
    state = _STATES[freeze.state]
    if freeze.state == "active" and freeze.asked is not None and freeze.frozen < freeze.asked:
        state = "PARTIAL"
    return {
        "freeze_no": freeze.freeze_id,
        "account_no": freeze.asset_ref,
        "cert_no": freeze.holder,
        "state": state,
        "frozen_fen": freeze.frozen,
        "requested_fen": freeze.asked,
        "expire_date": freeze.until.strftime("%Y%m%d"),
        "remark": freeze.reason,
    }


def _account_out(account: data.BankAccount, book: FreezeBook) -> dict[str, Any]:
    balance = account.balance - book.debited(account.account_no)
    return {
        "bank_code": account.bank_code,
        "bank_name": account.bank_name,
        "account_no": account.account_no,
        "account_type": account.account_type,
        "currency": "CNY",
        "balance_fen": balance,
        "frozen_fen": book.frozen_amount(account.account_no) or account.encumbered_amount,
    }


def _parse_date(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError as exc:
        raise BookError(400, "BAD_DATE", "expire_date must be YYYYMMDD") from exc


def create_app(book: FreezeBook | None = None, *, pending_polls: int = 1) -> FastAPI:
    """The bank channel app with its own freeze book."""
    app = FastAPI(title="Mock bank channel (总对总)")
    app.state.book = book = book or FreezeBook("BF")
    inquiries: dict[str, dict[str, Any]] = {}
    numbers = itertools.count(1)
    app.state.inquiries = inquiries

    @app.exception_handler(BookError)
    async def book_error(request: Request, exc: BookError) -> JSONResponse:
        return JSONResponse(
            {"code": f"E{exc.status}", "msg": exc.message, "data": None}, status_code=exc.status
        )

    @app.post("/inquiries", status_code=202)
    async def submit(
        body: InquiryIn, x_mock_pending_polls: int | None = Header(default=None)
    ) -> JSONResponse:
        if not (looks_like_person_id(body.cert_no) or looks_like_credit_code(body.cert_no)):
            raise BookError(400, "BAD_CERT", "cert_no is not an ID number or credit code")
        inquiry_no = f"INQ{next(numbers):010d}"
        polls = pending_polls if x_mock_pending_polls is None else x_mock_pending_polls
        inquiries[inquiry_no] = {
            "cert_no": body.cert_no.upper(),
            "name": body.subject_name,
            "polls_left": polls,
        }
        return _ok({"inquiry_no": inquiry_no, "state": "ACCEPTED"}, status=202)

    @app.get("/inquiries/{inquiry_no}")
    async def fetch(inquiry_no: str) -> JSONResponse:
        inquiry = inquiries.get(inquiry_no)
        if inquiry is None:
            raise BookError(404, "NO_INQUIRY", f"no inquiry {inquiry_no}")
        if inquiry["polls_left"] > 0:
            inquiry["polls_left"] -= 1
            return _ok({"inquiry_no": inquiry_no, "state": "PROCESSING"})
        accounts = [_account_out(a, book) for a in data.bank_accounts(inquiry["cert_no"])]
        return _ok(
            {
                "inquiry_no": inquiry_no,
                "state": "DONE",
                "holder_name": inquiry["name"],
                "accounts": accounts,
            }
        )

    @app.post("/freezes", status_code=201)
    async def freeze(body: FreezeIn, idempotency_key: str = Header()) -> JSONResponse:
        account = next(
            (a for a in data.bank_accounts(body.cert_no) if a.account_no == body.account_no), None
        )
        if account is None:
            raise BookError(404, "NO_ACCOUNT", f"no account {body.account_no} for holder")
        record = book.place(
            idempotency_key,
            account.account_no,
            capacity=account.balance,
            amount_based=True,
            asked=body.amount_fen,
            court_code=body.court_code,
            case_number=body.case_no,
            order_number=body.notice_no,
            until=_parse_date(body.expire_date),
            prior_court=account.encumbered_by,
            prior_amount=account.encumbered_amount,
            holder=body.cert_no,
        )
        return _ok(_freeze_out(record), status=201)

    _add_freeze_routes(app, book)

    @app.get("/courts/{court_code}/account")
    async def court_account(court_code: str) -> JSONResponse:
        return _ok(
            {"court_code": court_code, "balance_fen": book.court_accounts.get(court_code, 0)}
        )

    return app


def _add_freeze_routes(app: FastAPI, book: FreezeBook) -> None:
    """What the bank does with an existing freeze: report, renew, release, deduct."""

    @app.get("/freezes/{freeze_no}")
    async def freeze_state(freeze_no: str) -> JSONResponse:
        return _ok(_freeze_out(book.get(freeze_no)))

    @app.post("/freezes/{freeze_no}/renewals", status_code=201)
    async def renew(freeze_no: str, body: RenewIn, idempotency_key: str = Header()) -> JSONResponse:
        record = book.renew(idempotency_key, freeze_no, _parse_date(body.expire_date))
        return _ok(_freeze_out(record), status=201)

    @app.post("/freezes/{freeze_no}/release")
    async def release(freeze_no: str) -> JSONResponse:
        record, promoted = book.release(freeze_no)
        return _ok(
            {**_freeze_out(record), "promoted_freeze_no": promoted.freeze_id if promoted else None}
        )

    @app.post("/freezes/{freeze_no}/partial-releases", status_code=201)
    async def partial_release(
        freeze_no: str, body: DeductIn, idempotency_key: str = Header()
    ) -> JSONResponse:
        record = book.reduce(idempotency_key, freeze_no, body.amount_fen)
        return _ok(_freeze_out(record), status=201)

    @app.post("/freezes/{freeze_no}/deductions", status_code=201)
    async def deduct(
        freeze_no: str, body: DeductIn, idempotency_key: str = Header()
    ) -> JSONResponse:
        result = book.deduct(idempotency_key, freeze_no, body.amount_fen)
        return _ok(
            {
                "deduct_no": result["deduction_id"],
                "freeze_no": freeze_no,
                "deducted_fen": result["deducted"],
                "remaining_frozen_fen": result["remaining_frozen"],
            },
            status=201,
        )
