"""The wire API's common case, in plain ASGI: a JSON POST with a key, answered by its service.

Starlette's routing, request and response objects and middleware stack cost several times what
the operation itself does; this path does what they do for the wire API's happy and refused
requests alike, with the same answers, the same journal entries, the same coverage counts
(http/coverage.py) and the same shared commit. A request it does not take as it is (another
method or content type, a fault header, or one a fault rule could touch) goes to the app
unchanged, its body replayed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.domain.errors import DomainError
from mock_server.domain.model import Shop
from mock_server.domain.ports import GROUP_COMMIT
from mock_server.domain.timefmt import format_rfc3339
from mock_server.http.bodies import encoded, json_object
from mock_server.http.coverage import WireCoverage
from mock_server.http.faults import FaultGate
from mock_server.http.journal import (
    BODY_LIMIT,
    ENTRY_KEY,
    Journal,
    JournalClock,
)
from mock_server.http.redact import Redactions, redact
from mock_server.http.twirp import ErrorTable, TwirpError
from mock_server.services import Services
from mock_server.spec import Operation
from mock_server.spec.validator import BodyValidator

log = logging.getLogger("etelecom_sandbox")
JSON_HEADERS = [(b"content-type", b"application/json")]
Handler = Callable[[Shop, dict[str, Any]], Any]


@dataclass(frozen=True)
class WireRoute:
    operation: Operation
    handler: Handler
    validator: BodyValidator | None


class FastWire:
    def __init__(
        self,
        routes: dict[str, WireRoute],
        services: Services,
        errors: ErrorTable,
        gate: FaultGate,
        journal: Journal,
        clock: JournalClock,
        coverage: WireCoverage,
    ) -> None:
        self.routes = routes
        self.coverage = coverage
        self.clock = clock  # the journal's, which outlives an outage of the store
        self.services = services
        self.errors = errors
        self.gate = gate
        self.journal = journal
        self.redact = Redactions()

    def takes(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.routes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Answer `scope`, or hand it to `app` (the whole sandbox) as it came."""
        started = time.perf_counter()
        content_type = key = b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"authorization":
                key = value
            elif name.startswith(b"x-sandbox-"):  # a one-off fault: the app's business
                return await app(scope, receive, send)
        if content_type.split(b";", 1)[0].strip().lower() != b"application/json":
            return await app(scope, receive, send)  # bad_route, as Twirp answers it
        body = await _read(receive)
        route = self.routes[scope["path"]]
        scheme, _, given = key.partition(b" ")
        bearer = given.strip() if scheme.lower() == b"bearer" else b""
        headers = JSON_HEADERS
        try:
            shop = self.services.shops.authenticate(
                bearer.decode("latin-1"), route.operation.partner
            )
            try:
                data = json_object(body)
            except TwirpError:
                self.coverage.arrived(scope, route.operation.name, shop.shop_id)
                raise
            if self.gate.could_touch(route.operation, shop, data):
                return await app(scope, _replay(body, receive), send)  # it counts it there
            self.coverage.arrived(scope, route.operation.name, shop.shop_id)
            if route.validator is not None:
                route.validator.validate(data)
            grouped = GROUP_COMMIT.set(True)  # writes join the tick's shared commit...
            try:
                answer = route.handler(shop, data)
            finally:
                GROUP_COMMIT.reset(grouped)
            await self.services.store.committed()  # ...and nothing is answered before it is kept
            status, payload = 200, encoded(answer)
        except (TwirpError, DomainError) as exc:
            error = self.errors.from_domain(exc) if isinstance(exc, DomainError) else exc
            self.coverage.answered(scope, error.code, key.decode("latin-1"))
            status = self.errors.status_by_code.get(error.code, 500)
            payload = orjson.dumps(error.body())
            headers = JSON_HEADERS + [
                (k.lower().encode(), v.encode()) for k, v in error.headers.items()
            ]
        except Exception:
            log.exception("internal error on POST %s", scope["path"])
            status = 500
            payload = orjson.dumps({"code": "internal", "msg": "internal error", "meta": {}})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", b"%d" % len(payload))],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        self._journal(scope, content_type, bearer, status, body, payload, started)

    def _journal(
        self,
        scope: Scope,
        content_type: bytes,
        bearer: bytes,
        status: int,
        request: bytes,
        response: bytes,
        started: float,
    ) -> None:
        secrets = (bearer, *self.journal.secrets)
        entry: dict[str, Any] = {
            "at": format_rfc3339(self.clock.at(status)),  # faults take the other road
            "method": "POST",
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "content_type": content_type.decode("latin-1"),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "request": redact(request[:BODY_LIMIT], secrets),
            # Not sliced when it fits: a kept list answer stays the object Redactions knows.
            "response": self.redact(response[:BODY_LIMIT], secrets),
        }
        self.journal.add(entry)
        scope[ENTRY_KEY] = {"seq": entry["seq"]}  # what coverage's examples refer to


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: what came is what there is
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again
