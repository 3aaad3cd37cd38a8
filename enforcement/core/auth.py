"""API tokens and who may do what.

A token is shown once and stored only as its SHA-256 hash (tokens are 256-bit random, so a
plain hash is enough; a slow KDF would only slow every request). Roles: ``admin``, ``officer``
(its court's cases), ``judge``, ``credit`` (external credit systems) and ``bidder``.

A live token's principal is cached in-process for ``TOKEN_CACHE_SECONDS`` (hot paths such as
bidding would otherwise spend a query per request on it): a revocation (``revoked_at`` set)
takes effect within that many seconds in every process; ``forget_tokens()`` drops the cache.
Unknown and revoked tokens are never cached.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import audit, clock
from enforcement.core.errors import DomainError, Forbidden
from enforcement.core.models import ApiToken

ROLES = ("admin", "officer", "judge", "credit", "bidder")
COURT_ROLES = ("officer", "judge")
TOKEN_PREFIX = "ee_"
TOKEN_CACHE_SECONDS = 5.0
_TOKEN_CACHE_MAX = 10_000
_token_cache: dict[str, tuple[float, Principal]] = {}


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
    """The principal of a live token, or None (cached briefly: see the module docstring)."""
    digest = hash_token(token)
    now = time.monotonic()
    cached = _token_cache.get(digest)
    if cached is not None and cached[0] > now:
        return cached[1]
    connection = await session.connection()  # Core on the connection: no ORM layer per miss
    row = (await connection.execute(_TOKEN_QUERY, {"digest": digest})).first()
    if row is None or row.revoked_at is not None:
        _token_cache.pop(digest, None)
        return None
    principal = Principal(row.id, row.name, row.role, row.court_code, row.subject_id)
    if len(_token_cache) >= _TOKEN_CACHE_MAX:
        _token_cache.clear()
    _token_cache[digest] = (now + TOKEN_CACHE_SECONDS, principal)
    return principal


_TOKEN_QUERY = select(
    ApiToken.id,
    ApiToken.name,
    ApiToken.role,
    ApiToken.court_code,
    ApiToken.subject_id,
    ApiToken.revoked_at,
).where(ApiToken.token_hash == bindparam("digest"))
"""Built once: on a hot path a cache miss should cost the round trip, not statement building."""


def forget_tokens() -> None:
    """Drop every cached principal (tests; a process that revokes a token)."""
    _token_cache.clear()


def ensure_court(principal: Principal, court_code: str) -> None:
    """Officers and judges act only on their own court; admins on any."""
    if principal.role == "admin":
        return
    if principal.court_code != court_code:
        raise WrongCourt()
