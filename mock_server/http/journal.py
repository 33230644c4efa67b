"""The request journal: the last requests with their bodies, for tests and debugging.

An ASGI middleware, so it sees exactly what went over the wire. Authorization headers are
never kept and keys are scrubbed from bodies before they are stored (redact.py). Each entry has
a sequence number that keeps growing for the sandbox's life (the inspector's live updates carry
it) and how long the answer took. A request a fault touched carries the fault (its rule id, what
it did); one that got no answer (a drop, a hang) has status 0 and no response. The journal is
bounded twice: a number of entries and a byte budget for their bodies (oldest go first); each
body is kept up to a size limit. The inspector's own pages are not journaled.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.domain.errors import Unavailable
from mock_server.domain.faults import TRUNCATE
from mock_server.domain.timefmt import format_rfc3339
from mock_server.http.fault_edge import context_of
from mock_server.http.redact import bearer, redact

BODY_LIMIT = 64 * 1024
SKIP = "/_sandbox/journal"
# Scope: {"seq": N} once the request is in the journal (what refers to it reads it there).
ENTRY_KEY = "etelecom_sandbox.journal"
UI_PREFIX = "/_sandbox/ui"


class Journal:
    def __init__(self, size: int, budget_bytes: int, secrets: Iterable[str] = ()) -> None:
        self.size = size
        self.budget = budget_bytes
        self.bytes = 0
        self.secrets = tuple(s.encode() for s in secrets if s)  # e.g. the control token
        self.entries: collections.deque[dict[str, Any]] = collections.deque()
        self._numbers = itertools.count(1)
        self.seq = 0  # the newest entry's number (0: none yet)

    def add(self, entry: dict[str, Any]) -> None:
        self.seq = next(self._numbers)
        entry["seq"] = self.seq
        self.entries.append(entry)
        self.bytes += len(entry["request"]) + len(entry["response"])
        while self.entries and (len(self.entries) > self.size or self.bytes > self.budget):
            old = self.entries.popleft()
            self.bytes -= len(old["request"]) + len(old["response"])

    def find(
        self,
        path: str | None,
        limit: int | None,
        after: int | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Entries whose path contains `path`, numbered past `after` (and that `keep` keeps),
        the newest `limit` of them, oldest first."""
        found: list[dict[str, Any]] = []
        for e in reversed(self.entries):
            if after is not None and e["seq"] <= after:
                break
            if (not path or path in e["path"]) and (keep is None or keep(e)):
                found.append(e)
                if limit and len(found) >= limit:
                    break
        # Bodies are kept as bytes and decoded only here: journaling stays cheap per request.
        return [
            {**e, "request": _decode(e["request"]), "response": _decode(e["response"])}
            for e in reversed(found)
        ]

    def clear(self) -> None:
        """Forget the entries; the numbers go on (a reader resuming from one stays right)."""
        self.entries.clear()
        self.bytes = 0


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:BODY_LIMIT].decode("utf-8", "replace")


class JournalClock:
    """The journal's clock: the store's, or the time it last read while the store cannot be
    reached (the journal records the 503s of an outage too). A request the store already
    failed (answered `lost_status`, and no fault made it) does not ask it again: each ask
    would wait out the store's timeout."""

    def __init__(self, now_ms: Callable[[], int], lost_status: int) -> None:
        self._now_ms = now_ms
        self._lost_status = lost_status
        self._last = 0

    def at(self, status: int, faulted: bool = False) -> int:
        """The virtual time to record a request that was answered `status`."""
        if status != self._lost_status or faulted:
            with contextlib.suppress(Unavailable):
                self._last = self._now_ms()
        return self._last


class JournalMiddleware:
    def __init__(self, app: ASGIApp, journal: Journal, clock: JournalClock) -> None:
        self.app = app
        self.journal = journal
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == SKIP or path.startswith(UI_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        kept: dict[str, int] = {}
        scope[ENTRY_KEY] = kept
        request = bytearray()
        response = bytearray()
        status = 0

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request) < BODY_LIMIT:
                request.extend(message.get("body", b""))
            return message

        async def send_and_keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(response) < BODY_LIMIT:
                response.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        finally:
            secrets = (bearer(scope["headers"]), *self.journal.secrets)
            context = context_of(scope)
            faulted = context is not None and context.fault is not None
            entry = {
                "at": format_rfc3339(self.clock.at(status, faulted)),
                "method": scope["method"],
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "content_type": _header(scope, b"content-type"),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request": redact(bytes(request[:BODY_LIMIT]), secrets),
                "response": redact(bytes(response[:BODY_LIMIT]), secrets),
            }
            if context is not None and context.fault is not None:
                fault = context.fault
                entry["fault"] = {
                    "rule": fault.rule_id,
                    "action": fault.label,
                    "phase": fault.phase,
                    "delay_ms": fault.delay_ms,
                }
                if context.silent:  # a drop, a hang, or a client gone: nothing was sent
                    entry["status"], entry["response"] = 0, b""
                elif context.outcome == TRUNCATE:  # half the body went out
                    sent = bytes(response[: len(response) // 2])
                    entry["response"] = redact(sent[:BODY_LIMIT], secrets)
            self.journal.add(entry)
            kept["seq"] = entry["seq"]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
