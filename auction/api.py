"""HTTP endpoints of the auction domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["auction"])
