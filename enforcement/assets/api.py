"""HTTP endpoints of the assets domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["assets"])
