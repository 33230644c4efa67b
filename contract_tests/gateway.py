"""The one road every request of the kit takes: schemathesis' cases and probes, the model test's
calls, drift's reads. It is an ASGI app (schemathesis calls ASGI apps in-process), so:

    kit ──> Gateway (Guard: live rules, request cap) ──> target
                                                         ├─ the sandbox app, in-process
                                                         └─ Relay: over HTTP to a base URL

To a live target, the Gateway sends no X-Sandbox-* header (they ask a sandbox for faults).

`client()` gives a plain httpx client that goes through the same Gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.guard import Guard

TEXT_PLAIN = [(b"content-type", b"text/plain; charset=utf-8")]
SANDBOX_HEADERS = b"x-sandbox-"
# Hop-by-hop headers, and the ones httpx recomputes once it has decoded the body.
DROPPED_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def without_sandbox_headers(scope: Scope) -> Scope:
    """The request without the sandbox's own headers (X-Sandbox-Fault, X-Sandbox-Delay, ...):
    they ask a sandbox for faults, and a live API is never sent them."""
    headers = [(k, v) for k, v in scope["headers"] if not k.lower().startswith(SANDBOX_HEADERS)]
    return {**scope, "headers": headers}


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then defers to the original one."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


class Gateway:
    def __init__(self, target: ASGIApp, guard: Guard, in_process: bool) -> None:
        self.target = target
        self.guard = guard
        self.in_process = in_process
        # How the kit fits a generated case to this target (set by schema.build_schema).
        self.fit_case: Callable[[Any], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The target's own lifespan is not started: an in-process sandbox would then run its
            # webhook sender and post to whatever URLs generated data named.
            await _lifespan(receive, send)
            return
        body = await read_body(receive)
        self.guard.admit(scope["method"], scope["path"], body)
        if self.guard.live:
            scope = without_sandbox_headers(scope)
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.target(scope, replay(body, receive), watch)
        except Exception:
            # An in-process app may raise after (Starlette) or instead of answering 500; over
            # HTTP the kit would see a 500, so it sees one here too. A relay's network error
            # is no answer at all, and stays an error.
            if not self.in_process:
                raise
            if not started:
                await send({"type": "http.response.start", "status": 500, "headers": TEXT_PLAIN})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=_AsgiBridge(self), base_url="http://etelecom-kit")


class Relay:
    """An ASGI app that sends each request on to `base_url` over HTTP and answers with the reply."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, follow_redirects=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        body = await read_body(receive)
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        url = (path + (b"?" + query if query else b"")).decode("latin-1")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in DROPPED_HEADERS
        ]
        request = self._http.build_request(scope["method"], url, headers=headers, content=body)
        # A sync client in a worker thread: no event loop of its own to share or outlive.
        response = await anyio.to_thread.run_sync(self._http.send, request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.headers.multi_items()
                    if k.lower() not in DROPPED_HEADERS
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    def close(self) -> None:
        self._http.close()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _AsgiBridge(httpx.BaseTransport):
    """Sync httpx over an ASGI app: each request runs on a short-lived event loop."""

    def __init__(self, app: ASGIApp) -> None:
        self._transport = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return anyio.run(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._transport.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )
