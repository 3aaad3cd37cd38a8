"""Model-to-schema conversions shared by the API and the CLI."""

from __future__ import annotations

from typing import Any

from enforcement.assets.inquiries import RegistryProgress
from enforcement.assets.models import Asset, Freeze, Inquiry
from enforcement.assets.schemas import (
    AssetRead,
    FreezeRead,
    InquiryRead,
    RegistryProgressRead,
    SweepRead,
)
from enforcement.assets.sweep import SweepSummary

_IDENTIFYING = ("vin", "plateNo", "account_no", "bank_name", "account_id", "STAKE_ID", "UNISCID")


def identifiers(asset: Asset) -> dict[str, str]:
    """The registry's own keys for an asset (holder, native id, and well-known raw fields)."""
    holder, _, native = asset.registry_ref.partition(":")
    found = {"holder": holder, "native_id": native}
    raw: dict[str, Any] = asset.raw or {}
    found.update({key: str(raw[key]) for key in _IDENTIFYING if raw.get(key) is not None})
    return found


def freeze_read(freeze: Freeze) -> FreezeRead:
    """The API view of a freeze."""
    return FreezeRead.model_validate(freeze)


def asset_read(asset: Asset, freeze: Freeze | None) -> AssetRead:
    """The API view of an asset with its freeze in force (or null)."""
    return AssetRead(
        id=asset.id,
        case_id=asset.case_id,
        party_id=asset.party_id,
        kind=asset.kind,  # type: ignore[arg-type]
        registry=asset.registry_name,
        registry_ref=asset.registry_ref,
        identifiers=identifiers(asset),
        description=asset.description,
        value=asset.value,
        currency=asset.currency,
        holder=asset.holder,
        status=asset.status,  # type: ignore[arg-type]
        first_seen_at=asset.first_seen_at,
        last_seen_at=asset.last_seen_at,
        gone_at=asset.gone_at,
        freeze=freeze_read(freeze) if freeze else None,
    )


def inquiry_read(inquiry: Inquiry, progress: list[RegistryProgress]) -> InquiryRead:
    """The API view of an inquiry with one entry per registry."""
    return InquiryRead(
        id=inquiry.id,
        case_id=inquiry.case_id,
        status=inquiry.status,  # type: ignore[arg-type]
        purpose=inquiry.purpose,
        operator=inquiry.operator,
        created_at=inquiry.created_at,
        finished_at=inquiry.finished_at,
        registries=[
            RegistryProgressRead(
                registry=p.registry,
                status=p.status,  # type: ignore[arg-type]
                error=p.error,
                assets_found=p.assets_found,
            )
            for p in progress
        ],
    )


def sweep_read(summary: SweepSummary) -> SweepRead:
    """The API view of a sweep run."""
    run = summary.run
    return SweepRead(
        id=run.id,
        run_date=run.run_date,
        trigger=run.trigger,
        status=summary.status,  # type: ignore[arg-type]
        subjects_total=run.subjects_total,
        subjects_done=summary.subjects_done,
        assets_new=summary.assets_new,
        assets_changed=summary.assets_changed,
        assets_gone=summary.assets_gone,
        errors=summary.errors,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
