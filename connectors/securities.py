"""Securities depository connector: paginated holdings grouped by account; freeze by account."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from connectors.base import (
    AssetRecord,
    FreezeReceipt,
    FreezeRequest,
    FreezeStatus,
    QueryResult,
    ReleaseReceipt,
    Subject,
)
from connectors.common import HttpConnector, fen, make_ref, parsing, receipt, split_ref
from connectors.errors import PermanentError
from connectors.settings import ConnectorSettings, SecuritiesSettings

_STATUS: dict[str, FreezeStatus] = {
    "in_force": "active",
    "pending_queue": "queued",
    "refused": "rejected",
    "lifted": "released",
    "lapsed": "expired",
}
MAX_PAGES = 1000


class SecuritiesConnector(HttpConnector):
    """One asset per depository account; its value is the market value of its holdings."""

    name: ClassVar[str] = "securities"
    settings_model: ClassVar[type[ConnectorSettings]] = SecuritiesSettings

    async def _holdings(self, holder: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        url: str | None = f"/v2/holders/{holder}/holdings"
        params: dict[str, Any] | None = {"offset": 0, "limit": self.settings.page_size}
        for _ in range(MAX_PAGES):
            if url is None:
                return lines
            body = await self.http.request("GET", url, params=params)
            with parsing(self.name, "holdings page"):
                lines.extend(body["data"])
                url, params = body["links"]["next"], None  # the next link carries its query
        raise PermanentError(self.name, f"more than {MAX_PAGES} pages of holdings")

    async def query(self, subject: Subject) -> QueryResult:
        """Every account of the subject with its holdings."""
        lines = await self._holdings(subject.identifier)
        with parsing(self.name, "holdings"):
            accounts: dict[str, dict[str, Any]] = {}
            for line in lines:
                account = accounts.setdefault(
                    line["acct"],
                    {"account_id": line["acct"], "market": line["mkt"], "holdings": []},
                )
                account["holdings"].append(line)
            assets = [
                AssetRecord(
                    registry=self.name,
                    kind="securities",
                    registry_ref=make_ref(subject.identifier, account_id),
                    description=f"{account['market']} 证券账户 {account_id}: "
                    + ", ".join(
                        f"{h['sec_code']} {h['sec_name']} ×{h['qty']}" for h in account["holdings"]
                    ),
                    value=sum(fen(h["px"]) * int(h["qty"]) for h in account["holdings"]),
                    holder=subject.name,
                    raw=account,
                )
                for account_id, account in accounts.items()
            ]
            return QueryResult(registry=self.name, subject=subject, assets=assets)

    async def freeze(self, request: FreezeRequest) -> FreezeReceipt:
        """Freeze a whole account; queued when another court froze it first."""
        holder, account_id = split_ref(self.name, request.registry_ref)
        body = await self.http.request(
            "PUT",
            f"/v2/holders/{holder}/accounts/{account_id}/freeze",
            json_body={
                "court": request.court_code,
                "case": request.case_number,
                "instrument": request.order_number,
                "valid_until": request.until.isoformat(),
            },
            idempotency_key=request.idempotency_key,
        )
        with parsing(self.name, "freeze receipt"):
            freeze = body["freeze"]
            return FreezeReceipt(
                registry_ref=request.registry_ref,
                status=_STATUS[freeze["state"]],
                frozen=fen(freeze["market_value"]),
                until=dt.date.fromisoformat(freeze["valid_until"]),
                registry_freeze_id=freeze["ref"],
            )

    def _receipt(self, body: dict[str, Any]) -> FreezeReceipt:
        with parsing(self.name, "freeze record"):
            freeze = body["freeze"]
            return receipt(
                holder=freeze.get("holder") or "",
                native_id=freeze["account_id"],
                status=_STATUS[freeze["state"]],
                frozen=fen(freeze["market_value"]),
                until=dt.date.fromisoformat(freeze["valid_until"]),
                registry_freeze_id=freeze["ref"],
            )

    async def renew(
        self, registry_freeze_id: str, until: dt.date, idempotency_key: str
    ) -> FreezeReceipt:
        """Renew the account freeze to ``until`` (续冻); idempotent by key."""
        body = await self.http.request(
            "POST",
            f"/v2/freezes/{registry_freeze_id}/renewal",
            json_body={"valid_until": until.isoformat()},
            idempotency_key=idempotency_key,
        )
        return self._receipt(body)

    async def freeze_status(self, registry_freeze_id: str) -> FreezeReceipt:
        """The account freeze as the depository holds it now."""
        return self._receipt(await self.http.request("GET", f"/v2/freezes/{registry_freeze_id}"))

    async def release(self, registry_freeze_id: str) -> ReleaseReceipt:
        """Lift the freeze; the earliest queued one takes effect."""
        body = await self.http.request("DELETE", f"/v2/freezes/{registry_freeze_id}")
        with parsing(self.name, "release receipt"):
            return ReleaseReceipt(
                registry_freeze_id=registry_freeze_id,
                released=body["freeze"]["state"] == "lifted",
                promoted_freeze_id=body.get("promoted"),
            )
