"""What the auction needs from assets: a frozen non-cash asset to sell, and the sale's end.

The auction reads ``SaleableAsset`` (never our tables' internals) and calls ``complete_sale``
when the buyer has paid, in the same transaction as its own settlement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.assets import freezes
from enforcement.assets.errors import AssetNotFrozen, AssetNotSaleable
from enforcement.assets.models import Asset, Freeze
from enforcement.cases import service as cases
from enforcement.core import audit, clock


@dataclass(frozen=True)
class SaleableAsset:
    """A frozen asset as the auction sees it; money in fen."""

    asset_id: int
    case_id: int
    court_code: str
    kind: str
    description: str
    value: int
    freeze_id: int
    frozen: int


async def _active_freeze(session: AsyncSession, asset: Asset) -> Freeze | None:
    return (
        await session.execute(
            select(Freeze)
            .where(Freeze.asset_id == asset.id, Freeze.status == "active")
            .order_by(Freeze.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def asset_for_sale(session: AsyncSession, asset_id: int) -> SaleableAsset:
    """The asset if the case may sell it: present, non-cash, under an active freeze.

    Raises ``AssetNotFound`` (404), ``AssetNotSaleable`` (409 ``asset_not_saleable``) for a
    deposit, and ``AssetNotFrozen`` (409 ``asset_not_frozen``) otherwise.
    """
    asset = await freezes.get_asset(session, asset_id)
    if asset.kind == "deposit":
        raise AssetNotSaleable(details={"asset_id": asset_id})
    freeze = await _active_freeze(session, asset) if asset.status == "present" else None
    if freeze is None:
        raise AssetNotFrozen(details={"asset_id": asset_id, "status": asset.status})
    case = await cases.get_case(session, asset.case_id)
    return SaleableAsset(
        asset_id=asset.id,
        case_id=asset.case_id,
        court_code=case.court_code,
        kind=asset.kind,
        description=asset.description,
        value=asset.value,
        freeze_id=freeze.id,
        frozen=freeze.frozen,
    )


async def complete_sale(session: AsyncSession, asset_id: int, *, reference: str) -> None:
    """Release the active freeze at the registry (a queued court's freeze then takes effect
    there) and mark the asset ``sold``; a repeat for a sold asset does nothing."""
    asset = await freezes.get_asset(session, asset_id, for_update=True)
    if asset.status == "sold":
        return
    freeze = await _active_freeze(session, asset)
    if freeze is None:
        raise AssetNotFrozen(details={"asset_id": asset_id, "status": asset.status})
    await freezes.end_at_registry(
        session, freeze, asset, status="released", reason=f"sold: {reference}"
    )
    before = {"status": asset.status}
    asset.status = "sold"
    asset.gone_at = clock.now()
    await session.flush()
    audit.record(
        session,
        action="asset.sold",
        entity_type="asset",
        entity_id=asset.id,
        before=before,
        after={"status": "sold", "reference": reference, "freeze_id": freeze.id},
    )
