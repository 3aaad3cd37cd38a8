"""Bank channel connector (总对总): deposits, asynchronous inquiries, freeze, release, deduct.

The bank answers later: ``submit_query`` returns a ``PendingQuery`` that a job re-enqueues
itself to ``fetch_query``, so no worker slot waits on a bank; ``query`` polls with backoff
within ``poll_timeout_seconds`` for callers that can wait.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_exponential

from connectors.base import (
    AssetRecord,
    DeductReceipt,
    FreezeReceipt,
    FreezeRequest,
    FreezeStatus,
    PendingQuery,
    QueryResult,
    ReleaseReceipt,
    Subject,
)
from connectors.common import HttpConnector, make_ref, parsing, receipt, split_ref
from connectors.errors import PermanentError, TransientError
from connectors.settings import BankSettings, ConnectorSettings

_STATUS: dict[str, FreezeStatus] = {
    "FROZEN": "active",
    "PARTIAL": "active",
    "WAITING": "queued",
    "REJECTED": "rejected",
    "RELEASED": "released",
    "EXPIRED": "expired",
}


class BankConnector(HttpConnector):
    """Deposits at every bank on the national channel, in fen."""

    name: ClassVar[str] = "bank"
    asynchronous: ClassVar[bool] = True
    settings_model: ClassVar[type[ConnectorSettings]] = BankSettings

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        body = await self.http.request(method, path, **kwargs)
        with parsing(self.name, "envelope"):
            if body["code"] != "0000":
                raise PermanentError(self.name, f"{body['code']}: {body.get('msg')}")
            return body["data"]

    async def submit_query(self, subject: Subject) -> PendingQuery:
        """Send the inquiry; the bank answers later."""
        data = await self._call(
            "POST",
            "/inquiries",
            json_body={
                "subject_type": "P" if subject.kind == "person" else "O",
                "subject_name": subject.name,
                "cert_no": subject.identifier,
                "purpose": "enforcement",
            },
        )
        with parsing(self.name, "inquiry receipt"):
            return PendingQuery(registry=self.name, handle=data["inquiry_no"], subject=subject)

    async def fetch_query(self, pending: PendingQuery) -> QueryResult | None:
        """The answer, or None while the bank is still working."""
        data = await self._call("GET", f"/inquiries/{pending.handle}")
        with parsing(self.name, "inquiry result"):
            if data["state"] != "DONE":
                return None
            holder = data.get("holder_name") or pending.subject.name
            assets = [
                AssetRecord(
                    registry=self.name,
                    kind="deposit",
                    registry_ref=make_ref(pending.subject.identifier, acc["account_no"]),
                    description=f"{acc['bank_name']} {acc['account_type']} {acc['account_no']}",
                    value=int(acc["balance_fen"]),
                    currency=acc.get("currency", "CNY"),
                    holder=holder,
                    raw=acc,
                )
                for acc in data["accounts"]
            ]
            return QueryResult(registry=self.name, subject=pending.subject, assets=assets)

    async def query(self, subject: Subject) -> QueryResult:
        """Submit and poll with backoff; TransientError if the bank has not answered in time."""
        pending = await self.submit_query(subject)
        s = self.settings
        polling = AsyncRetrying(
            retry=retry_if_result(lambda result: result is None),
            wait=wait_exponential(
                multiplier=s.poll_interval_seconds, max=s.poll_max_interval_seconds
            ),
            stop=stop_after_delay(s.poll_timeout_seconds),
        )
        try:
            result: QueryResult = await polling(self.fetch_query, pending)
        except RetryError as exc:
            raise TransientError(self.name, f"inquiry {pending.handle} not answered yet") from exc
        return result

    async def freeze(self, request: FreezeRequest) -> FreezeReceipt:
        """Freeze up to ``amount`` fen (everything if None); may be partial or queued."""
        holder, account_no = split_ref(self.name, request.registry_ref)
        data = await self._call(
            "POST",
            "/freezes",
            json_body={
                "cert_no": holder,
                "account_no": account_no,
                "amount_fen": request.amount,
                "court_code": request.court_code,
                "case_no": request.case_number,
                "notice_no": request.order_number,
                "expire_date": request.until.strftime("%Y%m%d"),
            },
            idempotency_key=request.idempotency_key,
        )
        with parsing(self.name, "freeze receipt"):
            reason = data.get("remark")
            if data["state"] == "PARTIAL":
                reason = f"partial: {data['frozen_fen']} of {data['requested_fen']} fen"
            return FreezeReceipt(
                registry_ref=request.registry_ref,
                status=_STATUS[data["state"]],
                frozen=int(data["frozen_fen"]),
                until=dt.datetime.strptime(data["expire_date"], "%Y%m%d").date(),
                registry_freeze_id=data["freeze_no"],
                reason=reason,
            )

    def _receipt(self, data: dict[str, Any]) -> FreezeReceipt:
        with parsing(self.name, "freeze record"):
            return receipt(
                holder=data.get("cert_no") or "",
                native_id=data["account_no"],
                status=_STATUS[data["state"]],
                frozen=int(data["frozen_fen"]),
                until=dt.datetime.strptime(data["expire_date"], "%Y%m%d").date(),
                registry_freeze_id=data["freeze_no"],
                reason=data.get("remark"),
            )

    async def renew(
        self, registry_freeze_id: str, until: dt.date, idempotency_key: str
    ) -> FreezeReceipt:
        """Continue the freeze to ``until`` (续行冻结); idempotent by key."""
        data = await self._call(
            "POST",
            f"/freezes/{registry_freeze_id}/renewals",
            json_body={"expire_date": until.strftime("%Y%m%d")},
            idempotency_key=idempotency_key,
        )
        return self._receipt(data)

    async def freeze_status(self, registry_freeze_id: str) -> FreezeReceipt:
        """The freeze as the bank holds it now."""
        return self._receipt(await self._call("GET", f"/freezes/{registry_freeze_id}"))

    async def reduce(
        self, registry_freeze_id: str, amount: int, idempotency_key: str
    ) -> FreezeReceipt:
        """Release ``amount`` fen of the freeze (部分解冻); it keeps its rank and expiry."""
        data = await self._call(
            "POST",
            f"/freezes/{registry_freeze_id}/partial-releases",
            json_body={"amount_fen": amount},
            idempotency_key=idempotency_key,
        )
        return self._receipt(data)

    async def release(self, registry_freeze_id: str) -> ReleaseReceipt:
        """Lift the freeze; the bank promotes the earliest queued one."""
        data = await self._call("POST", f"/freezes/{registry_freeze_id}/release")
        with parsing(self.name, "release receipt"):
            return ReleaseReceipt(
                registry_freeze_id=registry_freeze_id,
                released=data["state"] == "RELEASED",
                promoted_freeze_id=data.get("promoted_freeze_no"),
            )

    async def deduct(
        self, registry_freeze_id: str, amount: int, idempotency_key: str
    ) -> DeductReceipt:
        """Move frozen fen to the court account (idempotent by key)."""
        data = await self._call(
            "POST",
            f"/freezes/{registry_freeze_id}/deductions",
            json_body={"amount_fen": amount},
            idempotency_key=idempotency_key,
        )
        with parsing(self.name, "deduction receipt"):
            return DeductReceipt(
                registry_freeze_id=registry_freeze_id,
                deducted=int(data["deducted_fen"]),
                remaining_frozen=int(data["remaining_frozen_fen"]),
            )
