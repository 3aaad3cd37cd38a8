"""FastAPI dependencies that read as policy: the session, the caller, the caller's role.

``Session`` opens one unit of work per request and commits before the response is sent
(``scope="function"``), so a client never holds a 2xx for a write that failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import audit
from enforcement.core.auth import Principal, authenticate
from enforcement.core.db import unit_of_work
from enforcement.core.errors import Forbidden, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="API token from `enforcement keys create`")


async def get_session() -> AsyncIterator[AsyncSession]:
    """One transaction per request."""
    async with unit_of_work() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_principal(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated()
    principal = await authenticate(session, credentials.credentials)
    if principal is None:
        raise Unauthenticated("the token is unknown or revoked", code="invalid_token")
    audit.current_actor.set(principal.actor())
    request.state.principal = principal
    return principal


def require_role(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets only the given roles through (403 otherwise)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"this needs the role {' or '.join(roles)}",
                code="wrong_role",
                details={"required": list(roles), "role": principal.role},
            )
        return principal

    dependency.__name__ = f"require_{'_or_'.join(roles)}"
    return dependency


AnyPrincipal = Annotated[Principal, Depends(get_principal)]
Admin = Annotated[Principal, Depends(require_role("admin"))]
CourtStaff = Annotated[Principal, Depends(require_role("officer", "judge", "admin"))]
OfficerOrAdmin = Annotated[Principal, Depends(require_role("officer", "admin"))]
CreditSystem = Annotated[Principal, Depends(require_role("credit", "admin"))]
Bidder = Annotated[Principal, Depends(require_role("bidder"))]
