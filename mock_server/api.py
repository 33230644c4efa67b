"""The wire API: decode → validate (from the spec) → domain → encode, Twirp-style."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.model import Shop
from mock_server.edge import check_content_type, json_response, read_object
from mock_server.sandbox import Sandbox
from mock_server.spec import Operation
from mock_server.twirp import TwirpError, bad_route
from mock_server.wire import check_to_wire, consent_to_wire, page_to_wire

Endpoint = Callable[[Request], Awaitable[Response]]
PARTNER_SCHEME = "partnerShopKey"


def _handlers(sandbox: Sandbox) -> dict[str, Callable[[Shop, dict[str, Any]], Any]]:
    consents = sandbox.consents

    def request_consent(shop: Shop, body: dict[str, Any]) -> Any:
        return consent_to_wire(consents.request_consent(shop, body))

    def list_request_consent(shop: Shop, body: dict[str, Any]) -> Any:
        return page_to_wire(*consents.list_consents(shop, body))

    def check_consent(shop: Shop, body: dict[str, Any]) -> Any:
        answer, message = consents.check_consent(shop, body)
        return check_to_wire(answer, message)

    def update_shop_oa(shop: Shop, body: dict[str, Any]) -> Any:
        return {"updated": consents.update_shop_oa(shop, body)}

    return {
        "RequestConsent": request_consent,
        "ListRequestConsent": list_request_consent,
        "CheckConsent": check_consent,
        "UpdateShopOA": update_shop_oa,
    }


def wire_endpoint(sandbox: Sandbox, operation: Operation) -> Endpoint:
    """The endpoint for one spec operation. Fails at start-up if the spec names a method we lack."""
    handler = _handlers(sandbox).get(operation.name)
    if handler is None:
        raise RuntimeError(f"the spec's {operation.path} names {operation.name!r}, not implemented")
    partner = operation.security == PARTNER_SCHEME
    validator = operation.validator

    async def endpoint(request: Request) -> Response:
        if request.method != "POST":
            raise bad_route(
                f'unsupported method "{request.method}" (only POST is allowed)',
                request.method,
                request.url.path,
            )
        check_content_type(request)
        shop = authenticate(sandbox, request, partner)
        body = await read_object(request)
        if validator is not None:
            validator.validate(body)
        return json_response(handler(shop, body))

    return endpoint


def authenticate(sandbox: Sandbox, request: Request, partner: bool) -> Shop:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise TwirpError("unauthenticated", "missing Authorization: Bearer <key> header")
    shop = sandbox.store.shop_by_key(key, partner)
    if shop is None:
        which = "shop_key (partner API)" if partner else "api_key (shop API)"
        raise TwirpError("unauthenticated", f"the key is not a valid {which}")
    return shop
