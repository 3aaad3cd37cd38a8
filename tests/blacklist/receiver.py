"""A real HTTP webhook receiver for tests: uvicorn on a free local port, verifying every
delivery with the ``standardwebhooks`` package."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from standardwebhooks import Webhook


def free_port() -> int:
    """A port nobody listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """Records verified deliveries; answers ``status`` (503 simulates a sick receiver)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.secret: str | None = None
        self.status = 204
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.rejected: list[str] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def ids(self) -> list[str]:
        return [message_id for message_id, _ in self.received]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status = self.status
        if status < 300:
            try:
                payload = Webhook(self.secret or "").verify(body, headers)
                self.received.append((headers["webhook-id"], payload))
            except Exception as exc:  # a bad signature is the receiver's 400
                self.rejected.append(str(exc))
                status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
