"""The wire API: decode -> validate (from the spec) -> service -> encode, Twirp-style; a fault
the request gets (http/faults.py) comes after the key and the body are read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.model import Shop
from mock_server.domain.ports import GROUP_COMMIT
from mock_server.http.bodies import check_content_type, json_response, read_object
from mock_server.http.codec import WireCodec
from mock_server.http.coverage import WireCoverage
from mock_server.http.faults import FaultGate
from mock_server.http.list_answers import ListAnswers
from mock_server.http.twirp import bad_route
from mock_server.services import Services
from mock_server.spec import Operation
from mock_server.spec.validator import BodyValidator

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Shop, dict[str, Any]], Any]


def wire_handlers(
    services: Services, codec: WireCodec, coverage: WireCoverage, lists: ListAnswers
) -> dict[str, Handler]:
    """Each Twirp method the sandbox simulates: its body in, its answer out (JSON data, or
    bytes encoded already), and what the answer covers."""
    consents, shops = services.consents, services.shops

    def request_consent(shop: Shop, body: dict[str, Any]) -> Any:
        return codec.consent(consents.request_consent(shop, codec.consent_request(body)))

    def list_request_consent(shop: Shop, body: dict[str, Any]) -> Any:
        return lists.answer(shop, codec.list_request(body))  # it counts what it covers

    def check_consent(shop: Shop, body: dict[str, Any]) -> Any:
        answer, message = consents.check_consent(shop, codec.check_request(body))
        coverage.checked(shop.shop_id, answer.error)
        return codec.check(answer, message)

    def update_shop_oa(shop: Shop, body: dict[str, Any]) -> Any:
        return codec.oa(shops.update_shop_oa(shop, codec.webhook_target(body)))

    def list_oa(shop: Shop, _: dict[str, Any]) -> Any:
        return {"accounts": [codec.oa(oa) for oa in shops.list_oa(shop)]}

    def current_account(shop: Shop, _: dict[str, Any]) -> Any:
        return codec.account(shops.current_account(shop))

    return {
        "RequestConsent": request_consent,
        "ListRequestConsent": list_request_consent,
        "CheckConsent": check_consent,
        "UpdateShopOA": update_shop_oa,
        "ListOA": list_oa,
        "CurrentAccount": current_account,
    }


def wire_endpoint(
    services: Services,
    operation: Operation,
    handler: Handler,
    validator: BodyValidator | None,
    gate: FaultGate,
    coverage: WireCoverage,
) -> Endpoint:
    """The endpoint of one spec operation, with the faults its requests get."""
    partner = operation.partner
    store = services.store

    async def endpoint(request: Request) -> Response:
        if request.method != "POST":
            raise bad_route(
                f'unsupported method "{request.method}" (only POST is allowed)',
                request.method,
                request.url.path,
            )
        check_content_type(request)
        shop = services.shops.authenticate(bearer_key(request), partner)
        coverage.arrived(request.scope, operation.name, shop.shop_id)
        body = await read_object(request)

        async def run() -> Response:
            if validator is not None:
                validator.validate(body)
            grouped = GROUP_COMMIT.set(True)  # writes join the tick's shared commit...
            try:
                answer = handler(shop, body)
            finally:
                GROUP_COMMIT.reset(grouped)
            await store.committed()  # ...and nothing is answered before it is kept
            return json_response(answer)

        fault = gate.decide(request, operation, shop, body)
        if fault is None:
            return await run()
        coverage.faulted(shop.shop_id, operation.name, fault)
        return await gate.run(request, fault, run)

    return endpoint


def bearer_key(request: Request) -> str:
    """The key of an `Authorization: Bearer <key>` header, or "" when there is none."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""
