"""The one road every request of the kit takes: schemathesis' cases and probes, the model test's
calls, drift's reads. It is an ASGI app (schemathesis calls ASGI apps in-process), so:

    kit ──> Gateway (Guard: live rules, request cap) ──> target
                                                         ├─ the sandbox app, in-process
                                                         └─ Relay: over HTTP to a base URL

To a live target, the Gateway sends no X-Sandbox-* header (they ask a sandbox for faults).

`client()` gives a plain httpx client that goes through the same Gateway: to an in-process
sandbox over ASGI, each request on a short-lived event loop; to a Relay in this thread (the same
guard and headers, without an event loop, a worker thread and two more httpx messages per
request, which cost 1.5 to 2 ms of the kit's CPU per request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import anyio
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.guard import Guard

Headers = list[tuple[bytes, bytes]]

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


def without_sandbox_headers(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """The request's headers without the sandbox's own (X-Sandbox-Fault, X-Sandbox-Delay, ...):
    they ask a sandbox for faults, and a live API is never sent them."""
    return [(k, v) for k, v in headers if not k.lower().startswith(SANDBOX_HEADERS)]


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
        headers = self.admit(scope["method"], scope["path"], scope["headers"], body)
        scope = {**scope, "headers": headers}
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

    def admit(
        self, method: str, path: str, headers: Iterable[tuple[bytes, bytes]], body: bytes
    ) -> Headers:
        """Count a request about to be sent (or raise: the guard refuses it); the headers to
        send it with."""
        self.guard.admit(method, path, body)
        return without_sandbox_headers(headers) if self.guard.live else list(headers)

    def client(self) -> httpx.Client:
        if isinstance(self.target, Relay):
            transport: httpx.BaseTransport = _RelayTransport(self, self.target)
        else:
            transport = _AsgiBridge(self)
        return httpx.Client(transport=transport, base_url="http://etelecom-kit")


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
        target = path + (b"?" + query if query else b"")
        # A sync client, called in this event loop's thread: the kit sends one request at a
        # time, so nothing else waits on the loop, and a worker thread per request cost more
        # than the call (a sync client has no event loop of its own to share or outlive).
        status, headers, content = self.forward(scope["method"], target, scope["headers"], body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def forward(
        self, method: str, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, Headers, bytes]:
        """Send one request (`target`: its path and query) and wait for the whole answer:
        its status, headers (less the hop-by-hop ones) and body."""
        sent = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in headers
            if k.decode("latin-1").lower() not in DROPPED_HEADERS
        ]
        request = self._http.build_request(
            method, target.decode("latin-1"), headers=sent, content=body
        )
        response = self._http.send(request)
        answered = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower() not in DROPPED_HEADERS
        ]
        return response.status_code, answered, response.content

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


class _RelayTransport(httpx.BaseTransport):
    """Sync httpx through the Gateway's guard to a Relay, in the caller's thread."""

    def __init__(self, gateway: Gateway, relay: Relay) -> None:
        self._gateway = gateway
        self._relay = relay

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        raw = [(k.lower(), v) for k, v in request.headers.raw]  # as an ASGI scope has them
        headers = self._gateway.admit(request.method, request.url.path, raw, body)
        status, answered, content = self._relay.forward(
            request.method, request.url.raw_path, headers, body
        )
        return httpx.Response(status, headers=answered, content=content, request=request)


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
