"""One error base for every domain, rendered once into the API error shape.

    {"error": {"code": "snake_case_code", "message": "human sentence", "details": {...}}}

Domains subclass ``DomainError`` in their own ``errors.py``; services raise them, the app's
exception handlers render them. Expected failures are 4xx.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected failure with a machine-readable code and an HTTP status."""

    code: str = "domain_error"
    status: int = 400
    message: str = "the request cannot be carried out"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.status = status or type(self).status
        self.details = details or {}
        super().__init__(self.message)

    def to_body(self) -> dict[str, Any]:
        """The JSON body clients rely on."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = "no such resource"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = "the resource is not in a state that allows this"


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    message = "the request is not valid"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    message = "a valid bearer token is required"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    message = "this token may not do that"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    message = "too many requests; slow down"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error shape, for handlers that have no ``DomainError`` at hand."""
    return {"error": {"code": code, "message": message, "details": details or {}}}
