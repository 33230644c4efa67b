"""What each control operation does, by operationId. Bodies arrive validated by the spec."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from mock_server.domain.consents import to_int64
from mock_server.domain.durations import parse_duration_ms
from mock_server.domain.model import Shop
from mock_server.domain.notices import target_key
from mock_server.domain.timefmt import format_rfc3339, parse_rfc3339
from mock_server.sandbox import Sandbox
from mock_server.store import Conflict
from mock_server.twirp import TwirpError
from mock_server.wire import consent_to_wire

Result = tuple[Any, int]
Handler = Callable[[dict[str, Any]], Result | Awaitable[Result]]


def shop_to_wire(shop: Shop) -> dict[str, Any]:
    return {
        "shop_id": str(shop.shop_id),
        "api_key": shop.api_key,
        "shop_key": shop.shop_key,
        "oa_ids": [str(oa) for oa in shop.oa_ids],
    }


def handlers(sandbox: Sandbox) -> dict[str, Handler]:
    store = sandbox.store

    def health(_: dict[str, Any]) -> Result:
        return {
            "status": "ok",
            "store": store.kind,
            "shops": store.count_shops(),
            "consents": store.count_consents(),
        }, 200

    def create_shop(body: dict[str, Any]) -> Result:
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

    def reset(_: dict[str, Any]) -> Result:
        sandbox.reset()
        return health({})

    def get_clock(_: dict[str, Any]) -> Result:
        rate = sandbox.clock.state.rate
        return {"now": format_rfc3339(sandbox.clock.now_ms()), "rate": rate,
                "frozen": rate == 0}, 200  # fmt: skip

    def move_clock(body: dict[str, Any]) -> Result:
        clock = sandbox.clock
        try:
            if "set" in body:
                clock.set(parse_rfc3339(body["set"]))
            if "advance" in body:
                clock.advance(parse_duration_ms(body["advance"]))
        except ValueError as exc:
            raise TwirpError("failed_precondition", str(exc), {"argument": "set"}) from None
        if "rate" in body:
            clock.set_rate(float(body["rate"]))
        return get_clock({})

    def force(body: dict[str, Any]) -> Result:
        consent_id = to_int64(body["consent_id"], "consent_id")
        consent = sandbox.world.force(consent_id, body["action"])
        return consent_to_wire(consent), 200

    def get_rules(_: dict[str, Any]) -> Result:
        return sandbox.scenarios.tables(), 200

    def put_rules(body: dict[str, Any]) -> Result:
        shop_id = to_int64(body.get("shop_id"), "shop_id") or None
        sandbox.scenarios.set_rules(shop_id, body["rules"])
        return get_rules({})

    def journal(query: dict[str, Any]) -> Result:
        return {"requests": sandbox.journal.find(query.get("path"), query.get("limit"))}, 200

    def get_webhooks(_: dict[str, Any]) -> Result:
        targets = []
        for key, url in store.meta_items("webhook:"):
            shop_id, oa_id = key.split(":")[1:]
            targets.append({"shop_id": shop_id, "oa_id": oa_id, "url": url})
        return {"targets": targets}, 200

    def put_webhook(body: dict[str, Any]) -> Result:
        shop_id, oa_id = to_int64(body["shop_id"], "shop_id"), to_int64(body["oa_id"], "oa_id")
        store.set_meta(target_key(shop_id, oa_id), body["url"] or None)
        return get_webhooks({})

    def deliveries(query: dict[str, Any]) -> Result:
        entries = store.outbox_log(query.get("limit") or 100)
        return {"deliveries": [
            {
                "id": e.id, "oa_id": str(e.oa_id), "url": e.url, "state": e.state,
                "attempts": e.attempts, "event": orjson.loads(e.payload),
                "log": [{"at": format_rfc3339(int(a.at * 1000)), "status": a.status,
                         "error": a.error} for a in e.log],
            }
            for e in entries
        ]}, 200  # fmt: skip

    async def drain(_: dict[str, Any]) -> Result:
        return await sandbox.webhooks.drain(), 200

    return {
        "health": health,
        "createShop": create_shop,
        "reset": reset,
        "getClock": get_clock,
        "moveClock": move_clock,
        "forceConsent": force,
        "getRules": get_rules,
        "putRules": put_rules,
        "getJournal": journal,
        "getWebhooks": get_webhooks,
        "putWebhook": put_webhook,
        "getDeliveries": deliveries,
        "drainWebhooks": drain,
    }
