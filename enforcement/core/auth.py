"""API tokens and who may do what.

A token is shown once and stored only as its SHA-256 hash (tokens are 256-bit random, so a
plain hash is enough; a slow KDF would only slow every request). Roles: ``admin``, ``officer``
(its court's cases), ``judge``, ``credit`` (external credit systems) and ``bidder``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import audit, clock
from enforcement.core.errors import DomainError, Forbidden
from enforcement.core.models import ApiToken

ROLES = ("admin", "officer", "judge", "credit", "bidder")
COURT_ROLES = ("officer", "judge")
TOKEN_PREFIX = "ee_"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    token_id: int
    name: str
    role: str
    court_code: str | None
    subject_id: int | None = None

    @property
    def key(self) -> str:
        """Stable identity for idempotency records and rate limits."""
        return f"token:{self.token_id}"

    def actor(self) -> audit.Actor:
        """This caller as an audit actor."""
        return audit.Actor(f"{self.role}:{self.name}#{self.token_id}", self.role, self.court_code)


class InvalidRole(DomainError):
    code = "invalid_role"
    status = 422


class WrongCourt(Forbidden):
    code = "wrong_court"
    message = "that belongs to another court"


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    session: AsyncSession,
    *,
    role: str,
    name: str,
    court_code: str | None = None,
    subject_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the clear token, which is never stored."""
    if role not in ROLES:
        raise InvalidRole(f"role must be one of {', '.join(ROLES)}")
    if role in COURT_ROLES and not court_code:
        raise InvalidRole(f"a {role} token needs a court code", code="court_required")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(token),
        prefix=token[:10],
        role=role,
        court_code=court_code,
        name=name,
        subject_id=subject_id,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        action="token.created",
        entity_type="api_token",
        entity_id=row.id,
        after={"role": role, "court_code": court_code, "name": name, "prefix": row.prefix},
    )
    return row, token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    """The principal of a live token, or None."""
    row = (
        await session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.name, row.role, row.court_code, row.subject_id)


def ensure_court(principal: Principal, court_code: str) -> None:
    """Officers and judges act only on their own court; admins on any."""
    if principal.role == "admin":
        return
    if principal.court_code != court_code:
        raise WrongCourt()
