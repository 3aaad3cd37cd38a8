"""Use cases of the assets domain, re-exported in one place for the API and other domains.

Other domains call ``asset_for_sale`` and ``complete_sale`` (the auction); everything else is
used by this domain's API, jobs and CLI.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.assets.freezes import (
    IN_FORCE,
    check_expiries,
    deduct_freeze,
    freeze_asset,
    get_asset,
    get_freeze,
    list_freezes,
    release_freeze,
    renew_freeze,
)
from enforcement.assets.inquiries import get_inquiry, start_inquiry
from enforcement.assets.models import Asset, Freeze
from enforcement.assets.sales import SaleableAsset, asset_for_sale, complete_sale
from enforcement.cases import service as cases
from enforcement.core.auth import Principal
from enforcement.core.schemas import decode_cursor, encode_cursor

__all__ = [
    "SaleableAsset",
    "asset_for_sale",
    "check_expiries",
    "complete_sale",
    "deduct_freeze",
    "freeze_asset",
    "get_asset",
    "get_freeze",
    "get_inquiry",
    "list_freezes",
    "release_freeze",
    "renew_freeze",
    "start_inquiry",
]


async def list_case_assets(
    session: AsyncSession,
    principal: Principal,
    case_id: int,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[tuple[Asset, Freeze | None]], str | None]:
    """A case's assets (own court only) with the freeze in force on each, oldest first."""
    await cases.get_case_for(session, principal, case_id)
    query = select(Asset).where(Asset.case_id == case_id).order_by(Asset.id).limit(limit + 1)
    if status:
        query = query.where(Asset.status == status)
    if kind:
        query = query.where(Asset.kind == kind)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Asset.id > int(after.get("id", 0)))
    found = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": found[limit - 1].id}) if len(found) > limit else None
    found = found[:limit]
    return [(a, f) for a, f in zip(found, await freezes_in_force(session, found), strict=True)], (
        next_cursor
    )


async def freezes_in_force(session: AsyncSession, assets: list[Asset]) -> list[Freeze | None]:
    """For each asset, its active or queued freeze, else its latest one, else None."""
    if not assets:
        return []
    rows = await session.execute(
        select(Freeze).where(Freeze.asset_id.in_([a.id for a in assets])).order_by(Freeze.id)
    )
    chosen: dict[int, Freeze] = {}
    for freeze in rows.scalars():
        current = chosen.get(freeze.asset_id)
        if current is None or current.status not in IN_FORCE:
            chosen[freeze.asset_id] = freeze
    return [chosen.get(a.id) for a in assets]


async def get_asset_for(
    session: AsyncSession, principal: Principal, asset_id: int
) -> tuple[Asset, Freeze | None]:
    """One asset the caller's court may see, with its freeze."""
    asset = await get_asset(session, asset_id)
    await cases.get_case_for(session, principal, asset.case_id)
    return asset, (await freezes_in_force(session, [asset]))[0]


async def get_freeze_for(session: AsyncSession, principal: Principal, freeze_id: int) -> Freeze:
    """One freeze the caller's court may see."""
    freeze = await get_freeze(session, freeze_id)
    await cases.get_case_for(session, principal, freeze.case_id)
    return freeze
