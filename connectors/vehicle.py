"""Vehicle registry connector (traffic police): synchronous lookup by owner ID, seizure (查封)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from connectors.base import (
    AssetRecord,
    FreezeReceipt,
    FreezeRequest,
    QueryResult,
    ReleaseReceipt,
    Subject,
)
from connectors.common import HttpConnector, make_ref, parsing, split_ref
from connectors.settings import ConnectorSettings, VehicleSettings

_STATUS = {"EFFECTIVE": "active", "WAITLISTED": "queued", "REFUSED": "rejected"}


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

    async def release(self, registry_freeze_id: str) -> ReleaseReceipt:
        """Lift the seizure; the earliest waitlisted one takes effect."""
        body = await self.http.request("DELETE", f"/seizures/{registry_freeze_id}")
        with parsing(self.name, "lift receipt"):
            return ReleaseReceipt(
                registry_freeze_id=registry_freeze_id,
                released=body["status"] == "LIFTED",
                promoted_freeze_id=body.get("promotedSeizureId"),
            )
