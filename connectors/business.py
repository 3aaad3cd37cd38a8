"""Business registry connector: equity stakes (and a company's registration); equity freezes."""

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
from connectors.settings import BusinessSettings, ConnectorSettings

WAN = 1_000_000  # fen per 万元, the registry's unit of capital
_STATUS: dict[str, FreezeStatus] = {
    "1": "active",
    "2": "queued",
    "3": "released",
    "4": "expired",
    "9": "rejected",
}


class BusinessConnector(HttpConnector):
    """Stakes valued at subscribed capital; a company's registration goes in ``facts``."""

    name: ClassVar[str] = "business"
    settings_model: ClassVar[type[ConnectorSettings]] = BusinessSettings

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        body = await self.http.request(method, path, **kwargs)
        with parsing(self.name, "envelope"):
            if body["status"] != 0:
                raise PermanentError(self.name, f"{body['status']}: {body.get('message')}")
            return body["result"]

    async def query(self, subject: Subject) -> QueryResult:
        """Stakes of a person, or a company's registration and its stakes."""
        key = "cerno" if subject.kind == "person" else "uniscid"
        result = await self._call("GET", "/api/investor", params={key: subject.identifier})
        with parsing(self.name, "investor record"):
            assets = [
                AssetRecord(
                    registry=self.name,
                    kind="equity",
                    registry_ref=make_ref(subject.identifier, stake["STAKE_ID"]),
                    description=(
                        f"{stake['ENTNAME']}({stake['UNISCID']}) 股权 {stake['CONPROP']},"
                        f" 认缴 {stake['SUBCONAM']} 万元"
                    ),
                    value=fen(stake["SUBCONAM"], WAN),
                    holder=subject.name,
                    raw=stake,
                )
                for stake in result["INVESTMENTS"]
            ]
            facts = dict(result.get("ENTITY") or {})
            return QueryResult(registry=self.name, subject=subject, assets=assets, facts=facts)

    async def freeze(self, request: FreezeRequest) -> FreezeReceipt:
        """Freeze (and publish) an equity stake; queued when another court froze it first."""
        holder, stake_id = split_ref(self.name, request.registry_ref)
        result = await self._call(
            "POST",
            "/api/equity-freezes",
            json_body={
                "INV_CERNO": holder,
                "STAKE_ID": stake_id,
                "COURT": request.court_code,
                "CASENO": request.case_number,
                "DOCNO": request.order_number,
                "FRZ_TO": request.until.isoformat(),
            },
            idempotency_key=request.idempotency_key,
        )
        with parsing(self.name, "freeze receipt"):
            return FreezeReceipt(
                registry_ref=request.registry_ref,
                status=_STATUS[result["FRZSTATE"]],
                frozen=fen(result["FRZAM"], WAN),
                until=dt.date.fromisoformat(result["FRZ_TO"]),
                registry_freeze_id=result["FREEZE_ID"],
                reason=f"published {result['PUBLICITY_NO']}" if result.get("PUBLISHED") else None,
            )

    def _receipt(self, result: dict[str, Any]) -> FreezeReceipt:
        with parsing(self.name, "freeze record"):
            return receipt(
                holder=result.get("INV_CERNO") or "",
                native_id=result["STAKE_ID"],
                status=_STATUS[result["FRZSTATE"]],
                frozen=fen(result["FRZAM"], WAN),
                until=dt.date.fromisoformat(result["FRZ_TO"]),
                registry_freeze_id=result["FREEZE_ID"],
            )

    async def renew(
        self, registry_freeze_id: str, until: dt.date, idempotency_key: str
    ) -> FreezeReceipt:
        """Continue the equity freeze to ``until`` (续行冻结, published); idempotent by key."""
        result = await self._call(
            "POST",
            f"/api/equity-freezes/{registry_freeze_id}/continue",
            json_body={"FRZ_TO": until.isoformat()},
            idempotency_key=idempotency_key,
        )
        return self._receipt(result)

    async def freeze_status(self, registry_freeze_id: str) -> FreezeReceipt:
        """The equity freeze as the registry holds it now."""
        return self._receipt(await self._call("GET", f"/api/equity-freezes/{registry_freeze_id}"))

    async def release(self, registry_freeze_id: str) -> ReleaseReceipt:
        """Unfreeze the stake; the earliest queued freeze takes effect."""
        result = await self._call("POST", f"/api/equity-freezes/{registry_freeze_id}/unfreeze")
        with parsing(self.name, "unfreeze receipt"):
            return ReleaseReceipt(
                registry_freeze_id=registry_freeze_id,
                released=result["FRZSTATE"] == "3",
                promoted_freeze_id=result.get("PROMOTED_FREEZE_ID"),
            )
