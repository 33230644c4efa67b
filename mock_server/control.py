"""The control API under /_sandbox/ (openapi/sandbox-control.yaml): shops, health, reset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.consents import to_int64
from mock_server.domain.durations import parse_duration_ms
from mock_server.domain.model import Shop
from mock_server.domain.timefmt import format_rfc3339, parse_rfc3339
from mock_server.edge import check_content_type, json_response, read_object
from mock_server.sandbox import Sandbox
from mock_server.spec import Operation
from mock_server.store import Conflict
from mock_server.twirp import TwirpError, bad_route

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[dict[str, Any]], tuple[Any, int]]


def shop_to_wire(shop: Shop) -> dict[str, Any]:
    return {
        "shop_id": str(shop.shop_id),
        "api_key": shop.api_key,
        "shop_key": shop.shop_key,
        "oa_ids": [str(oa) for oa in shop.oa_ids],
    }


def _handlers(sandbox: Sandbox) -> dict[str, Handler]:
    def health(_: dict[str, Any]) -> tuple[Any, int]:
        return {
            "status": "ok",
            "store": sandbox.store.kind,
            "shops": sandbox.store.count_shops(),
            "consents": sandbox.store.count_consents(),
        }, 200

    def create_shop(body: dict[str, Any]) -> tuple[Any, int]:
        try:
            shop = sandbox.create_shop(
                shop_id=to_int64(body.get("shop_id"), "shop_id") or None,
                api_key=body.get("api_key"),
                shop_key=body.get("shop_key"),
                oa_ids=[to_int64(oa, "oa_ids") for oa in body.get("oa_ids") or ()],
            )
        except Conflict as exc:
            raise TwirpError("already_exists", str(exc)) from None
        return shop_to_wire(shop), 201

    def reset(_: dict[str, Any]) -> tuple[Any, int]:
        sandbox.reset()
        return health({})

    def get_clock(_: dict[str, Any]) -> tuple[Any, int]:
        clock = sandbox.clock
        return {
            "now": format_rfc3339(clock.now_ms()),
            "rate": clock.state.rate,
            "frozen": clock.state.rate == 0,
        }, 200

    def move_clock(body: dict[str, Any]) -> tuple[Any, int]:
        clock = sandbox.clock
        try:
            if "set" in body:
                clock.set(parse_rfc3339(body["set"]))
            if "advance" in body:
                clock.advance(parse_duration_ms(body["advance"]))
        except ValueError as exc:
            raise TwirpError("failed_precondition", str(exc)) from None
        if "rate" in body:
            clock.set_rate(float(body["rate"]))
        sandbox.save_clock()
        return get_clock({})

    return {
        "health": health,
        "createShop": create_shop,
        "reset": reset,
        "getClock": get_clock,
        "moveClock": move_clock,
    }


def control_endpoint(sandbox: Sandbox, operations: Mapping[str, Operation]) -> Endpoint:
    """One path of the control spec; each of its methods is an operation."""
    handlers = _handlers(sandbox)
    missing = [op.operation_id for op in operations.values() if op.operation_id not in handlers]
    if missing:
        raise RuntimeError(f"the control spec's {missing} are not implemented")

    async def endpoint(request: Request) -> Response:
        operation = operations.get(request.method)
        if operation is None:
            allowed = ", ".join(sorted(operations))
            raise bad_route(
                f'unsupported method "{request.method}" (only {allowed} is allowed)',
                request.method,
                request.url.path,
            )
        body: dict[str, Any] = {}
        if operation.validator is not None:
            if await request.body():
                check_content_type(request)
            body = await read_object(request, empty_is={})
            operation.validator.validate(body)
        data, status = handlers[operation.operation_id](body)
        return json_response(data, status)

    return endpoint
