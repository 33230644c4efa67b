"""create_app(settings): the Starlette app. Glue only: routes from the specs, one error handler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api import wire_endpoint
from mock_server.control import control_endpoint
from mock_server.journal import JournalMiddleware
from mock_server.sandbox import Sandbox
from mock_server.settings import Settings
from mock_server.spec import control_spec, wire_spec
from mock_server.twirp import TwirpError, bad_route, error_response
from mock_server.webhooks import running

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
log = logging.getLogger("etelecom_sandbox")


def create_app(settings: Settings | None = None, sandbox: Sandbox | None = None) -> Starlette:
    sandbox = sandbox or Sandbox(settings or Settings())
    status_by_code = wire_spec().extension("TwirpErrorCode", None, "x-http-status")

    routes = [
        Route(path, wire_endpoint(sandbox, ops["POST"]), methods=ALL_METHODS)
        for path, ops in wire_spec().operations.items()
    ]
    routes += [
        Route(path, control_endpoint(sandbox, ops), methods=ALL_METHODS)
        for path, ops in control_spec().operations.items()
    ]

    async def no_route(request: Request) -> Response:
        raise bad_route(
            f'no handler for path "{request.url.path}"', request.method, request.url.path
        )

    routes.append(Route("/{path:path}", no_route, methods=ALL_METHODS))

    async def twirp_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, TwirpError)
        return error_response(exc, status_by_code)

    async def http_error(request: Request, exc: Exception) -> Response:
        # Starlette's own 4xx (e.g. a path it cannot route) in Twirp's envelope.
        assert isinstance(exc, HTTPException)
        return error_response(
            bad_route(str(exc.detail), request.method, request.url.path), status_by_code
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(TwirpError("internal", "internal error"), status_by_code)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with running(sandbox.webhooks):
            yield
        sandbox.close()

    app = Starlette(
        routes=routes,
        exception_handlers={
            TwirpError: twirp_error,
            HTTPException: http_error,
            Exception: unexpected,
        },
        lifespan=lifespan,
        middleware=[Middleware(JournalMiddleware, sandbox.journal, sandbox.clock.now_ms)],
    )
    app.state.sandbox = sandbox
    return app
