"""ASGI calls to the sandbox's app in this process, as a server would make them: one HTTP/1.1
JSON POST at a time, and the app's lifespan. profile.py and edge_costs.py drive the app with
them (no socket, no HTTP client: the server's work only).

It imports nothing but the standard library, and not its `profile` (profile.py imports this
before it takes bench/ off sys.path)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class Client:
    """ASGI calls to the app, as a server would make them for one HTTP/1.1 request each."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.auth = f"Bearer {api_key}".encode()

    def scope(self, path: str, raw: bytes) -> dict[str, Any]:
        """The scope of a JSON POST of `raw` to `path` with the client's key."""
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8080"),
                (b"content-type", b"application/json"),
                (b"authorization", self.auth),
                (b"content-length", str(len(raw)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080),
            "state": {},
        }

    async def post(self, path: str, raw: bytes) -> tuple[int, bytes]:
        sent = False
        status = 0
        chunks: list[bytes] = []
        finished = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    finished.set()

        await self.app(self.scope(path, raw), receive, send)
        return status, b"".join(chunks)

    async def ok(self, path: str, body: dict[str, Any] | bytes) -> bytes:
        status, answer = await self.post(path, body if isinstance(body, bytes) else encode(body))
        if status != 200:
            raise SystemExit(f"{path} answered {status}: {answer[:300]!r}")
        return answer


class Lifespan:
    """The app's ASGI lifespan: started on entry, shut down on exit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

        async def run() -> None:
            await self.app(scope, self.inbox.get, self.outbox.put)

        self.task = asyncio.create_task(run())
        await self.inbox.put({"type": "lifespan.startup"})
        answer = await self.outbox.get()
        if answer["type"] != "lifespan.startup.complete":
            raise SystemExit(f"the app did not start: {answer}")

    async def __aexit__(self, *_: object) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        if self.task is not None:
            await self.task
