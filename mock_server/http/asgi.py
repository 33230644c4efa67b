"""The Starlette app: routes from both specs, one error handler per kind of failure, the
journal, and a lifespan that runs webhook delivery."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.domain.errors import DomainError, Unavailable
from mock_server.http.codec import WireCodec
from mock_server.http.control_api import ControlOperation, control_endpoint, control_handlers
from mock_server.http.internal import InternalErrors
from mock_server.http.journal import Journal, JournalMiddleware
from mock_server.http.twirp import ErrorTable, TwirpError, bad_route
from mock_server.http.wire_api import wire_endpoint, wire_handlers
from mock_server.services import Services
from mock_server.services.webhooks import running
from mock_server.spec import Specs
from mock_server.spec.facts import SpecFacts
from mock_server.spec.validator import BodyValidator

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
log = logging.getLogger("etelecom_sandbox")


@dataclass(frozen=True)
class EdgeSettings:
    """What the HTTP edge needs from the settings."""

    control_token: str | None = None
    journal_size: int = 1000
    journal_bytes: int = 16 * 1024 * 1024
    foreign_oa_error: str = "not_found"
    encode_cache_bytes: int = 32 * 1024 * 1024


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


def _last_known(now_ms: Callable[[], int]) -> Callable[[], int]:
    """The journal's clock: the store's, or while the store cannot be reached, the time it
    last read (the journal records the 503s of an outage too)."""
    last = 0

    def now() -> int:
        nonlocal last
        with contextlib.suppress(Unavailable):
            last = now_ms()
        return last

    return now


def build_app(services: Services, specs: Specs, facts: SpecFacts, edge: EdgeSettings) -> Starlette:
    errors = ErrorTable(facts.status_by_code, edge.foreign_oa_error)
    codec = WireCodec(facts.zero_values, edge.encode_cache_bytes)
    journal = Journal(edge.journal_size, edge.journal_bytes, [edge.control_token or ""])

    handlers = wire_handlers(services, codec)
    routes = []
    for op in specs.wire.operations:
        handler = handlers.get(op.name)
        if handler is None:
            raise RuntimeError(f"the spec's {op.path} names {op.name!r}, which is not implemented")
        schema = op.request_schema
        validator = BodyValidator(specs.wire.document, schema) if schema is not None else None
        routes.append(
            Route(op.path, wire_endpoint(services, op, handler, validator), methods=ALL_METHODS)
        )

    table = control_handlers(services, journal)
    for path, by_method in specs.control.routes.items():
        missing = [op.operation_id for op in by_method.values() if op.operation_id not in table]
        if missing:
            raise RuntimeError(f"the control spec's {missing} are not implemented")
        operations = {
            method: ControlOperation(op, specs.control.document, table[op.operation_id])
            for method, op in by_method.items()
        }
        routes.append(
            Route(path, control_endpoint(operations, edge.control_token), methods=ALL_METHODS)
        )

    routes.append(Route("/v1/{prefix}/{method}", not_simulated(facts), methods=ALL_METHODS))
    routes.append(Route("/{path:path}", no_route, methods=ALL_METHODS))

    async def twirp_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, TwirpError)
        return errors.response(exc)

    async def domain_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return errors.response(errors.from_domain(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        # Starlette's own 4xx (e.g. a path it cannot route) in Twirp's envelope.
        assert isinstance(exc, HTTPException)
        return errors.response(bad_route(str(exc.detail), request.method, request.url.path))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with running(services.webhooks):
            yield
        services.close()

    app = Starlette(
        routes=routes,
        exception_handlers={
            TwirpError: twirp_error,
            DomainError: domain_error,
            HTTPException: http_error,
        },
        lifespan=lifespan,
        middleware=[
            Middleware(JournalMiddleware, journal, _last_known(services.clock.now_ms)),
            Middleware(InternalErrors),
        ],
    )
    app.state.services = services
    app.state.journal = journal
    return app
