"""Shared pydantic building blocks: the strict request base, pages, cursors, error shape."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from enforcement.core.errors import InvalidInput

T = TypeVar("T")


class Schema(BaseModel):
    """Request/response base: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class Page(BaseModel, Generic[T]):
    """A page of a list: ``{"items": [...], "next_cursor": "..." | null}``."""

    items: list[T]
    next_cursor: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    """The error shape of every 4xx/5xx answer."""

    error: ErrorDetail


def encode_cursor(value: dict[str, Any]) -> str:
    """An opaque cursor for keyset pagination."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """Read a cursor back; garbage is a 422, not an empty page."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise InvalidInput("the cursor is not one this API issued", code="invalid_cursor") from exc
    if not isinstance(value, dict):
        raise InvalidInput("the cursor is not one this API issued", code="invalid_cursor")
    return value


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)
}
"""OpenAPI documentation of the error shape for routers (``responses=ERROR_RESPONSES``)."""
