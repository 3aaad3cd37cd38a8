"""The auction's view of the assets domain: ``asset_for_sale`` and ``complete_sale``.

The assets domain owns these use cases (``enforcement.assets.service``). Until that module
ships them, a stand-in with the same signatures reads the ``Asset``/``Freeze`` models, which
that domain publishes for the auction to read; the stand-in disappears on its own once the
real functions exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import clock
from enforcement.core.errors import Conflict, NotFound


@dataclass(frozen=True)
class SaleableAsset:
    """What the auction needs to know about a frozen asset (the stand-in's return type)."""

    asset_id: int
    case_id: int
    court_code: str
    kind: str
    description: str
    value: int
    freeze_id: int
    frozen: int


async def _asset_for_sale(session: AsyncSession, asset_id: int) -> SaleableAsset:
    """Stand-in: a present, non-deposit asset under an active freeze of its case."""
    from enforcement.assets.models import Asset, Freeze
    from enforcement.cases.models import Case

    asset = await session.get(Asset, asset_id)
    if asset is None:
        raise NotFound("no such asset", code="asset_not_found")
    if asset.kind == "deposit" or asset.status != "present":
        raise Conflict("this asset cannot be auctioned", code="asset_not_saleable")
    freeze = (
        await session.execute(
            select(Freeze)
            .where(Freeze.asset_id == asset_id, Freeze.status == "active")
            .order_by(Freeze.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if freeze is None:
        raise Conflict("the asset is not under an active freeze", code="asset_not_frozen")
    court_code = await session.scalar(select(Case.court_code).where(Case.id == asset.case_id))
    return SaleableAsset(
        asset.id,
        asset.case_id,
        court_code or "",
        asset.kind,
        asset.description,
        asset.value,
        freeze.id,
        freeze.frozen,
    )


async def _complete_sale(session: AsyncSession, asset_id: int, *, reference: str) -> None:
    """Stand-in: release the active freezes and mark the asset sold."""
    from enforcement.assets.models import Asset, Freeze

    asset = await session.get(Asset, asset_id)
    if asset is None:
        raise NotFound("no such asset", code="asset_not_found")
    now: dt.datetime = clock.now()
    freezes = await session.execute(
        select(Freeze).where(Freeze.asset_id == asset_id, Freeze.status == "active")
    )
    for freeze in freezes.scalars():
        freeze.status, freeze.released_at, freeze.updated_at = "released", now, now
        freeze.reason = f"sold: {reference}"
    asset.status = "sold"
    await session.flush()


def _resolve() -> tuple[Any, Any]:
    try:
        from enforcement.assets import service
    except ImportError:
        return _asset_for_sale, _complete_sale
    return (
        getattr(service, "asset_for_sale", _asset_for_sale),
        getattr(service, "complete_sale", _complete_sale),
    )


async def asset_for_sale(session: AsyncSession, asset_id: int) -> Any:
    """The asset as saleable (raises NotFound / Conflict asset_not_frozen|asset_not_saleable)."""
    return await _resolve()[0](session, asset_id)


async def complete_sale(session: AsyncSession, asset_id: int, *, reference: str) -> None:
    """Release the freeze and mark the asset sold (the assets domain's use case)."""
    await _resolve()[1](session, asset_id, reference=reference)
