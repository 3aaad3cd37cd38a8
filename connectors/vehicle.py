"""Vehicle registry connector (traffic police): synchronous lookup by owner ID, seizure (查封)."""

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
from connectors.common import HttpConnector, make_ref, parsing, receipt, split_ref
from connectors.settings import ConnectorSettings, VehicleSettings

_STATUS: dict[str, FreezeStatus] = {
    "EFFECTIVE": "active",
    "WAITLISTED": "queued",
    "REFUSED": "rejected",
    "LIFTED": "released",
    "EXPIRED": "expired",
}


class VehicleConnector(HttpConnector):
    """Vehicles by owner; values are the registry's valuation in yuan, converted to fen."""

    name: ClassVar[str] = "vehicle"
    settings_model: ClassVar[type[ConnectorSettings]] = VehicleSettings

    async def query(self, subject: Subject) -> QueryResult:
        """All vehicles registered to the subject."""
        body = await self.http.request("GET", f"/owners/{subject.identifier}/vehicles")
        with parsing(self.name, "vehicle list"):
            assets = [
                AssetRecord(
                    registry=self.name,
                    kind="vehicle",
                    registry_ref=make_ref(subject.identifier, v["vin"]),
                    description=(
                        f"{v['plateNo']} {v['brand']} {v['model']} VIN {v['vin']}"
                        f" 初次登记 {v['firstRegistered']}"
                    ),
                    value=int(v["valuationYuan"]) * 100,
                    holder=subject.name,
                    raw=v,
                )
                for v in body["vehicles"]
            ]
            return QueryResult(registry=self.name, subject=subject, assets=assets)

    async def freeze(self, request: FreezeRequest) -> FreezeReceipt:
        """Seize the vehicle; queued (waitlisted) when another court seized it first."""
        owner, vin = split_ref(self.name, request.registry_ref)
        body = await self.http.request(
            "POST",
            "/seizures",
            json_body={
                "ownerIdNo": owner,
                "vin": vin,
                "courtCode": request.court_code,
                "caseNo": request.case_number,
                "orderNo": request.order_number,
                "expiresOn": request.until.isoformat(),
            },
            idempotency_key=request.idempotency_key,
        )
        with parsing(self.name, "seizure receipt"):
            return FreezeReceipt(
                registry_ref=request.registry_ref,
                status=_STATUS[body["status"]],
                frozen=int(body["valuationYuan"]) * 100,
                until=dt.date.fromisoformat(body["expiresOn"]),
                registry_freeze_id=body["seizureId"],
            )

    def _receipt(self, body: dict[str, Any]) -> FreezeReceipt:
        with parsing(self.name, "seizure record"):
            return receipt(
                holder=body.get("ownerIdNo") or "",
                native_id=body["vin"],
                status=_STATUS[body["status"]],
                frozen=int(body["valuationYuan"]) * 100,
                until=dt.date.fromisoformat(body["expiresOn"]),
                registry_freeze_id=body["seizureId"],
            )

    async def renew(
        self, registry_freeze_id: str, until: dt.date, idempotency_key: str
    ) -> FreezeReceipt:
        """Extend the seizure to ``until`` (续行查封); idempotent by key."""
        body = await self.http.request(
            "POST",
            f"/seizures/{registry_freeze_id}/extensions",
            json_body={"expiresOn": until.isoformat()},
            idempotency_key=idempotency_key,
        )
        return self._receipt(body)

    async def freeze_status(self, registry_freeze_id: str) -> FreezeReceipt:
        """The seizure as the traffic police hold it now."""
        return self._receipt(await self.http.request("GET", f"/seizures/{registry_freeze_id}"))

    async def release(self, registry_freeze_id: str) -> ReleaseReceipt:
        """Lift the seizure; the earliest waitlisted one takes effect."""
        body = await self.http.request("DELETE", f"/seizures/{registry_freeze_id}")
        with parsing(self.name, "lift receipt"):
            return ReleaseReceipt(
                registry_freeze_id=registry_freeze_id,
                released=body["status"] == "LIFTED",
                promoted_freeze_id=body.get("promotedSeizureId"),
            )
