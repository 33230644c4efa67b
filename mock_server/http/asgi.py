"""The Starlette app: routes from both specs and the inspector, one error handler per kind of
failure, the journal, the guard of /_sandbox/, the fault edge around it all, and a lifespan that
runs webhook delivery."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from mock_server.domain.errors import DomainError, Unavailable
from mock_server.http.codec import WireCodec
from mock_server.http.control_api import ControlOperation, control_endpoint, control_handlers
from mock_server.http.coverage import WireCoverage
from mock_server.http.fast_wire import FastWire, WireRoute
from mock_server.http.fault_edge import FaultEdge, Holds
from mock_server.http.faults import FaultGate
from mock_server.http.guard import Guard, GuardMiddleware
from mock_server.http.internal import InternalErrors
from mock_server.http.journal import Journal, JournalClock, JournalMiddleware
from mock_server.http.list_answers import ListAnswers
from mock_server.http.twirp import CODES, ErrorTable, TwirpError, bad_route
from mock_server.http.ui.context import Inspector
from mock_server.http.ui.layout import clock_data
from mock_server.http.ui.live import LiveUpdates
from mock_server.http.ui.routes import ui_routes
from mock_server.http.wire_api import wire_endpoint, wire_handlers
from mock_server.services import Services
from mock_server.services.coverage import flushing
from mock_server.services.webhooks import running
from mock_server.spec import Specs
from mock_server.spec.facts import SpecFacts

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
log = logging.getLogger("etelecom_sandbox")


@dataclass(frozen=True)
class EdgeSettings:
    """What the HTTP edge needs from the settings."""

    control_token: str | None = None
    journal_size: int = 1000
    journal_bytes: int = 16 * 1024 * 1024
    foreign_oa_error: str = "not_found"
    encode_cache_bytes: int = 8 * 1024 * 1024
    list_cache_bytes: int = 8 * 1024 * 1024
    fault_headers: str = "loopback"
    fault_hang_seconds: float = 60.0
    # Hosts /_sandbox/ answers to besides loopback names and the address it was reached on.
    allowed_hosts: tuple[str, ...] = ()


class SandboxApp(Starlette):
    """Starlette, with the fault edge outside everything else: closing a connection needs the
    server's own `send` (http/fault_edge.py)."""

    fault_edge: FaultEdge | None = None
    fast_wire: FastWire | None = None  # the wire API's common case, without Starlette

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_wire is not None and self.fast_wire.takes(scope):
            await self.fast_wire(scope, receive, send, self._through_everything)
        else:
            await self._through_everything(scope, receive, send)

    async def _through_everything(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.fault_edge is not None:
            await self.fault_edge(scope, receive, send, super().__call__)
        else:
            await super().__call__(scope, receive, send)


async def no_route(request: Request) -> Response:
    raise bad_route(f'no handler for path "{request.url.path}"', request.method, request.url.path)


def not_simulated(facts: SpecFacts) -> Callable[[Request], Awaitable[Response]]:
    """eTelecom methods the sandbox does not simulate answer `unimplemented`; others
    `bad_route`, as Twirp answers a method it does not have."""
    served = ", ".join(facts.served)

    async def endpoint(request: Request) -> Response:
        side, _, service = request.path_params["prefix"].partition(".")
        method = request.path_params["method"]
        known = method in facts.unimplemented.get(service, ())
        if request.method != "POST" or side not in ("shop", "partner") or not known:
            return await no_route(request)
        raise TwirpError(
            "unimplemented",
            f"{side}.{service}/{method} is part of eTelecom's API but not of this sandbox, "
            f"which simulates the consent workflow: {served}",
            {"method": f"{service}/{method}"},
        )

    return endpoint


def build_app(services: Services, specs: Specs, facts: SpecFacts, edge: EdgeSettings) -> SandboxApp:
    errors = ErrorTable(facts.status_by_code, edge.foreign_oa_error)
    holds = Holds()
    durations = specs.control.validators.body(
        {"$ref": "#/components/schemas/Duration"}, whole="duration"
    )
    gate = FaultGate(
        services.faults, services.faults.policy, edge.fault_headers, durations.validate_as
    )
    codec = WireCodec(facts.zero_values, edge.encode_cache_bytes)
    journal = Journal(edge.journal_size, edge.journal_bytes, [edge.control_token or ""])

    coverage = WireCoverage(
        services.coverage.tally,
        services.shops,
        services.clock.now_ms,
        services.coverage.model.ids(),
    )
    lists = ListAnswers(services.consents, codec, coverage, edge.list_cache_bytes)
    handlers = wire_handlers(services, codec, coverage, lists)
    fast: dict[str, WireRoute] = {}
    routes: list[BaseRoute] = []
    for op in specs.wire.operations:
        handler = handlers.get(op.name)
        if handler is None:
            raise RuntimeError(f"the spec's {op.path} names {op.name!r}, which is not implemented")
        schema = op.request_schema
        validator = specs.wire.validators.body(schema) if schema is not None else None
        fast[op.path] = WireRoute(op, handler, validator)
        routes.append(
            Route(
                op.path,
                wire_endpoint(services, op, handler, validator, gate, coverage),
                methods=ALL_METHODS,
            )
        )

    table = control_handlers(services, journal, holds, facts.fault_limits["FaultWait"])
    for path, by_method in specs.control.routes.items():
        missing = [op.operation_id for op in by_method.values() if op.operation_id not in table]
        if missing:
            raise RuntimeError(f"the control spec's {missing} are not implemented")
        operations = {
            method: ControlOperation(op, specs.control.validators, table[op.operation_id])
            for method, op in by_method.items()
        }
        routes.append(
            Route(path, control_endpoint(operations, edge.control_token), methods=ALL_METHODS)
        )

    inspector = Inspector.build(services, specs, codec, journal, errors, table, edge.control_token)
    live = live_updates(services, journal)
    routes += ui_routes(inspector, live)
    routes.append(Route("/v1/{prefix}/{method}", not_simulated(facts), methods=ALL_METHODS))
    routes.append(Route("/{path:path}", no_route, methods=ALL_METHODS))

    async def twirp_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TwirpError)
        coverage.answered(request.scope, exc.code, request.headers.get("authorization", ""))
        return errors.response(exc, exc.headers)

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        twirp = errors.from_domain(exc)
        coverage.answered(request.scope, twirp.code, request.headers.get("authorization", ""))
        return errors.response(twirp)

    async def http_error(request: Request, exc: Exception) -> Response:
        # Starlette's own 4xx (e.g. a path it cannot route) in Twirp's envelope.
        assert isinstance(exc, HTTPException)
        return errors.response(bad_route(str(exc.detail), request.method, request.url.path))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with running(services.webhooks), flushing(services.coverage):
            yield
        services.close()

    lost = facts.status_by_code[CODES[Unavailable]]
    journal_clock = JournalClock(services.clock.now_ms, lost)
    app = SandboxApp(
        routes=routes,
        exception_handlers={
            TwirpError: twirp_error,
            DomainError: domain_error,
            HTTPException: http_error,
        },
        lifespan=lifespan,
        middleware=[
            Middleware(JournalMiddleware, journal, journal_clock),
            Middleware(GuardMiddleware, Guard(edge.allowed_hosts), refuse(errors)),
            Middleware(InternalErrors),
        ],
    )
    app.fault_edge = FaultEdge(edge.fault_hang_seconds, holds)
    app.fast_wire = FastWire(fast, services, errors, gate, journal, journal_clock, coverage)
    app.state.services = services
    app.state.journal = journal
    app.state.lists = lists
    app.state.live = live
    return app


def refuse(errors: ErrorTable) -> Callable[[str], Response]:
    def response(why: str) -> Response:
        return errors.response(TwirpError("permission_denied", why))

    return response


def live_updates(services: Services, journal: Journal) -> LiveUpdates:
    """What the inspector's pages are told: a change (requests, events applied, webhook
    attempts), with the journal's sequence and the clock."""

    def version() -> tuple[int, int, int]:
        return journal.seq, services.world.changes, services.webhooks.attempted

    def clock() -> dict[str, object]:
        view = services.time.get_clock()
        return clock_data(view.now, view.rate)

    return LiveUpdates(version, lambda: journal.seq, clock)
