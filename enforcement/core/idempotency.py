"""``Idempotency-Key`` for side-effecting POSTs: a repeat returns the first response.

The stored response is written in the same transaction as the effect, so either both exist or
neither. Two racing requests with the same key cannot both commit (unique key per principal):
the loser gets 409 ``idempotency_in_progress`` and may retry to receive the replay. A key reused
with a different body is refused with 422 ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.core import clock
from enforcement.core.deps import Session
from enforcement.core.errors import Conflict, InvalidInput
from enforcement.core.models import IdempotencyRecord

Result = BaseModel | dict[str, Any] | list[Any]


class Idempotency:
    """Bound to one request: run the handler once per key, replay afterwards."""

    def __init__(
        self, session: AsyncSession, request: Request, key: str | None, body: bytes
    ) -> None:
        self.session = session
        self.request = request
        self.key = key
        # no key (the common case on hot paths): nothing to hash, look up or store
        self.body_hash = hashlib.sha256(body).hexdigest() if key else ""

    def _principal_key(self) -> str:
        principal = getattr(self.request.state, "principal", None)
        if principal is not None:
            return str(principal.key)
        client = self.request.client.host if self.request.client else "anonymous"
        return f"public:{client}"

    async def run(
        self, handler: Callable[[], Awaitable[Result]], status: int = 201
    ) -> JSONResponse:
        """Call ``handler`` unless this key was already answered; store and return its result."""
        if not self.key:
            return JSONResponse(jsonable_encoder(await handler()), status_code=status)
        principal = self._principal_key()
        existing = (
            await self.session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == principal, IdempotencyRecord.key == self.key
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            if existing.body_hash != self.body_hash or existing.path != self.request.url.path:
                raise InvalidInput(
                    "this Idempotency-Key was used for a different request",
                    code="idempotency_key_reused",
                )
            return JSONResponse(
                existing.response,
                status_code=existing.status,
                headers={"Idempotent-Replay": "true"},
            )
        body = jsonable_encoder(await handler())
        self.session.add(
            IdempotencyRecord(
                principal=principal,
                key=self.key,
                method=self.request.method,
                path=self.request.url.path,
                body_hash=self.body_hash,
                status=status,
                response=body,
                created_at=clock.now(),
            )
        )
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                "a request with this Idempotency-Key is being processed; retry shortly",
                code="idempotency_in_progress",
            ) from exc
        return JSONResponse(body, status_code=status)


async def get_idempotency(
    request: Request,
    session: Session,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="repeat-safe key: a repeat with the same key and body replays the answer",
        ),
    ] = None,
) -> Idempotency:
    """The request's idempotency helper (the body is read only when a key is sent)."""
    body = await request.body() if idempotency_key else b""
    return Idempotency(session, request, idempotency_key, body)


IdempotencyKey = Annotated[Idempotency, Depends(get_idempotency)]
