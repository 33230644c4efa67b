"""The control API under /_sandbox/ (openapi/sandbox-control.yaml)."""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.control_handlers import handlers
from mock_server.edge import check_content_type, json_response, read_object
from mock_server.sandbox import Sandbox
from mock_server.spec import Operation
from mock_server.twirp import TwirpError, bad_route, invalid_argument

Endpoint = Callable[[Request], Awaitable[Response]]


def control_endpoint(sandbox: Sandbox, operations: Mapping[str, Operation]) -> Endpoint:
    """One path of the control spec; each of its methods is an operation."""
    table = handlers(sandbox)
    missing = [op.operation_id for op in operations.values() if op.operation_id not in table]
    if missing:
        raise RuntimeError(f"the control spec's {missing} are not implemented")
    token = sandbox.settings.control_token

    async def endpoint(request: Request) -> Response:
        operation = operations.get(request.method)
        if operation is None:
            allowed = ", ".join(sorted(operations))
            raise bad_route(
                f'unsupported method "{request.method}" (only {allowed} is allowed)',
                request.method,
                request.url.path,
            )
        if token is not None:
            _check_token(request, token)
        body: dict[str, Any] = {}
        if operation.validator is not None:
            if await request.body():
                check_content_type(request)
            body = await read_object(request, empty_is={})
            operation.validator.validate(body)
        if operation.query:
            body = _query(request, operation)
        result = table[operation.operation_id](body)
        if inspect.isawaitable(result):
            result = await result
        data, status = result
        return json_response(data, status)

    return endpoint


def _check_token(request: Request, token: str) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
        raise TwirpError("unauthenticated", "the control API needs Authorization: Bearer <token>")


def _query(request: Request, operation: Operation) -> dict[str, Any]:
    """Query parameters typed and checked by their schemas in the spec."""
    out: dict[str, Any] = {}
    for name, schema in operation.query.items():
        raw = request.query_params.get(name)
        if raw is None:
            continue
        if schema.get("type") == "integer":
            try:
                out[name] = int(raw)
            except ValueError:
                raise invalid_argument(name, f"must be an integer (got {raw!r})") from None
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and out[name] < low) or (high is not None and out[name] > high):
                raise invalid_argument(name, f"must be between {low} and {high}")
        else:
            out[name] = raw[: schema.get("maxLength", len(raw))]
    return out
