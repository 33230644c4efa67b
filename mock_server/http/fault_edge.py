"""The connection side of faults: an ASGI layer outside the whole app, and the context of each
request that the wire endpoint fills in (http/faults.py decides; this carries it out).

It sits outside Starlette because closing a connection needs the server's own `send`: under
uvicorn that is a bound method of the request's cycle, whose transport can be closed. Starlette
would otherwise answer 500 for an app that stops without answering. For each request:

- a rule's id goes out as `X-Sandbox-Fault-Rule` on any answer sent;
- drop: nothing is sent, the connection is closed;
- hang: nothing is sent until the client gives up (or `hang_seconds`), then the connection is
  closed;
- truncate: the status, the headers (with the full Content-Length) and half the body are sent,
  then the connection is closed.

Waiting (a delay or a hang) races the client's disconnect in the request's own task, so a client
that gives up frees the request at once and nothing is left running. A server without a
transport to close (an in-process test client) gets `FaultAbort` raised instead.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.domain.faults import CONNECTION_FAULTS, DROP, HANG, TRUNCATE, Fault

SCOPE_KEY = "etelecom_sandbox.fault"
RULE_HEADER = b"x-sandbox-fault-rule"
CLOSE_WAIT_SECONDS = 5.0
SETTLE_POLL_SECONDS = 0.01


class FaultAbort(ConnectionAbortedError):
    """A connection fault on a server that has no connection to close."""


class Holds:
    """How many requests a fault holds right now (delays and hangs)."""

    def __init__(self) -> None:
        self.count = 0

    async def settle(self, seconds: float) -> None:
        """Return once no request is held, or after `seconds`."""
        deadline = time.monotonic() + seconds
        while self.count and time.monotonic() < deadline:
            await anyio.sleep(SETTLE_POLL_SECONDS)


class FaultContext:
    """One request's fault: set by the wire endpoint, carried out by the edge."""

    def __init__(self, receive: Receive, holds: Holds) -> None:
        self.receive = receive  # the server's own: after the body, it waits for a disconnect
        self.holds = holds
        self.fault: Fault | None = None
        self.gone = False  # the client disconnected

    @property
    def outcome(self) -> str | None:
        return self.fault.outcome if self.fault is not None else None

    @property
    def silent(self) -> bool:
        """Whether nothing of the answer goes out."""
        return self.gone or self.outcome in (DROP, HANG)

    async def hold(self, seconds: float) -> bool:
        """Wait `seconds` of wall time, or until the client leaves; whether it is still there."""
        await self.wait_gone(seconds)
        return not self.gone

    async def wait_gone(self, seconds: float) -> None:
        self.holds.count += 1
        try:
            with anyio.move_on_after(seconds):
                while not self.gone:
                    message = await self.receive()
                    self.gone = message["type"] == "http.disconnect"
        finally:
            self.holds.count -= 1


def context_of(scope: Scope) -> FaultContext | None:
    context = scope.get(SCOPE_KEY)
    return context if isinstance(context, FaultContext) else None


class FaultEdge:
    def __init__(self, hang_seconds: float, holds: Holds) -> None:
        self.hang_seconds = hang_seconds
        self.holds = holds

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        context = FaultContext(receive, self.holds)
        scope[SCOPE_KEY] = context
        truncated = False

        async def faulty_send(message: Message) -> None:
            nonlocal truncated
            fault = context.fault
            if context.silent or truncated:
                return
            if message["type"] == "http.response.start" and fault and fault.rule_id:
                headers = [*message.get("headers", []), (RULE_HEADER, fault.rule_id.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and context.outcome == TRUNCATE:
                body = message.get("body", b"")
                message = {
                    "type": message["type"],
                    "body": body[: len(body) // 2],
                    "more_body": True,
                }
                truncated = True
            await send(message)

        await app(scope, receive, faulty_send)
        if context.outcome not in CONNECTION_FAULTS or context.gone:
            return
        if context.outcome == HANG:
            await context.wait_gone(self.hang_seconds)
        await _close(context, send)


async def _close(context: FaultContext, send: Send) -> None:
    """Close the connection under `send`, and wait until the server has seen it closed (so it
    does not answer in our place)."""
    transport = _transport(send)
    if transport is None:
        rule = context.fault.rule_id if context.fault else None
        raise FaultAbort(f"{context.outcome} by fault rule {rule or '(a request header)'}")
    transport.close()
    with anyio.move_on_after(CLOSE_WAIT_SECONDS):
        while not context.gone:
            context.gone = (await context.receive())["type"] == "http.disconnect"


def _transport(send: Send) -> Any:
    """The transport of uvicorn's request cycle (`send` is its bound method), or None."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    closes = callable(getattr(transport, "close", None))
    return transport if closes and callable(getattr(transport, "is_closing", None)) else None
