"""The control API under /_sandbox/ (openapi/sandbox-control.yaml): one handler per operationId."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.fault_rules import duration_ms
from mock_server.http import control_codec as encode
from mock_server.http.auth import has_token
from mock_server.http.bodies import check_content_type, json_response
from mock_server.http.codec import consent_to_wire, to_int64
from mock_server.http.fault_edge import Holds
from mock_server.http.journal import Journal
from mock_server.http.twirp import TwirpError, bad_route
from mock_server.services import Services
from mock_server.spec import Operation
from mock_server.spec.validator import Validators

Endpoint = Callable[[Request], Awaitable[Response]]
SAFE_METHODS = ("GET", "HEAD")
# Where the README explains the misuse rules (each report links every rule there).
README_RULES = "README.md#misuse-rules"
Result = tuple[Any, int]
Handler = Callable[[Any], Result | Awaitable[Result]]


def control_handlers(
    services: Services, journal: Journal, holds: Holds, wait_limit_ms: int
) -> dict[str, Handler]:
    """operationId -> what it does with its (validated) body or query."""
    shops, webhooks, scenarios = services.shops, services.webhooks, services.scenarios
    faults = services.faults

    def health(_: Any) -> Result:
        return encode.health(shops.health()), 200

    def create_shop(body: Any) -> Result:
        return encode.shop(shops.create_shop(encode.new_shop(body))), 201

    def reset(_: Any) -> Result:
        services.reset()
        journal.clear()
        return health(None)

    def get_clock(_: Any) -> Result:
        return encode.clock(services.time.get_clock()), 200

    def move_clock(body: Any) -> Result:
        return encode.clock(services.time.move_clock(encode.clock_move(body))), 200

    def force_consent(body: Any) -> Result:
        return consent_to_wire(services.consents.force_consent(encode.force(body))), 200

    def get_rules(_: Any) -> Result:
        return encode.rule_tables(scenarios.get_rules()), 200

    def put_rules(body: Any) -> Result:
        tables = scenarios.put_rules(encode.optional_shop_id(body), body["rules"])
        return encode.rule_tables(tables), 200

    def get_journal(query: Any) -> Result:
        found = journal.find(query.get("path"), query.get("limit"), query.get("after"))
        return {"requests": found}, 200

    def get_webhooks(_: Any) -> Result:
        return encode.targets(webhooks.get_webhooks()), 200

    def put_webhook(body: Any) -> Result:
        shop_id, oa_id = (to_int64(body[k], k) for k in ("shop_id", "oa_id"))
        return encode.targets(webhooks.put_webhook(shop_id, oa_id, body["url"])), 200

    def get_deliveries(query: Any) -> Result:
        found = webhooks.get_deliveries(query.get("limit") or 100, query.get("state"))
        return encode.deliveries(found), 200

    def redeliver_webhook(body: Any) -> Result:
        return encode.delivery(webhooks.redeliver_webhook(int(body["id"]))), 200

    async def drain_webhooks(_: Any) -> Result:
        return await webhooks.drain_webhooks(), 200

    async def get_faults(query: Any) -> Result:
        if query.get("wait"):
            await holds.settle(duration_ms(query["wait"], "wait", wait_limit_ms) / 1000)
        return encode.fault_tables(faults.get_faults(), holds.count), 200

    def put_faults(body: Any) -> Result:
        tables = faults.put_faults(encode.optional_shop_id(body), body["faults"])
        return encode.fault_tables(tables, holds.count), 200

    def add_fault(body: Any) -> Result:
        return encode.fault_state(
            faults.add_fault(encode.optional_shop_id(body), body["fault"])
        ), 201

    def get_coverage(query: Any) -> Result:
        report = services.coverage.get_coverage(encode.optional_shop_id(query))
        return encode.coverage(report, README_RULES), 200

    def reset_coverage(body: Any) -> Result:
        report = services.coverage.reset_coverage(encode.optional_shop_id(body or {}))
        return encode.coverage(report, README_RULES), 200

    def delete_faults(query: Any) -> Result:
        tables = faults.delete_faults(encode.optional_shop_id(query))
        return encode.fault_tables(tables, holds.count), 200

    return {
        "health": health,
        "createShop": create_shop,
        "reset": reset,
        "getClock": get_clock,
        "moveClock": move_clock,
        "forceConsent": force_consent,
        "getRules": get_rules,
        "putRules": put_rules,
        "getJournal": get_journal,
        "getWebhooks": get_webhooks,
        "putWebhook": put_webhook,
        "getDeliveries": get_deliveries,
        "redeliverWebhook": redeliver_webhook,
        "drainWebhooks": drain_webhooks,
        "getFaults": get_faults,
        "putFaults": put_faults,
        "addFault": add_fault,
        "deleteFaults": delete_faults,
        "getCoverage": get_coverage,
        "resetCoverage": reset_coverage,
    }


class ControlOperation:
    """One control operation with its compiled validators."""

    def __init__(self, operation: Operation, validators: Validators, handler: Handler) -> None:
        self.operation = operation
        self.handler = handler
        schema = operation.request_schema
        self.body = validators.body(schema) if schema is not None else None
        self.query = validators.query(operation.query) if operation.query else None


def control_endpoint(operations: Mapping[str, ControlOperation], token: str | None) -> Endpoint:
    """One path of the control spec; each of its methods is an operation."""

    async def endpoint(request: Request) -> Response:
        op = operations.get(request.method)
        if op is None:
            allowed = ", ".join(sorted(operations))
            raise bad_route(
                f'unsupported method "{request.method}" (only {allowed} is allowed)',
                request.method,
                request.url.path,
            )
        if not has_token(request, token):
            raise TwirpError(
                "unauthenticated", "the control API needs Authorization: Bearer <token>"
            )
        if request.method not in SAFE_METHODS:
            # A browser form or a no-cors fetch cannot send JSON: state changes need it.
            check_content_type(request)
        data: Any = None
        if op.body is not None:
            data = await _read_json(request)
            op.body.validate(data)
        if op.query is not None:
            data = op.query.read(request.query_params)
        result = op.handler(data)
        if inspect.isawaitable(result):
            result = await result
        payload, status = result
        return json_response(payload, status)

    return endpoint


async def _read_json(request: Request) -> Any:
    """Any JSON value (the spec's schema says which are allowed); no body is {}."""
    raw = await request.body()
    if not raw.strip():
        return {}
    check_content_type(request)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TwirpError("malformed", f"the json request could not be decoded: {exc.msg}") from None
