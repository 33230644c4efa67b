"""Webhooks, the journal and the control token, through the wire and control APIs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.testclient import TestClient

from contract_tests.audit import audit_webhook
from contract_tests.receiver import Received, receiving
from contract_tests.specfacts import facts
from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, START, Api, move_clock, new_shop
from tests.specs import SPECS
from tests.test_lifecycle import AGREES, IGNORES, REJECTS


@contextmanager
def receiver() -> Iterator[Received]:
    """A real webhook receiver; every event it accepted must be one the spec describes."""
    with receiving() as hook:
        yield hook
    wrong = [str(f) for event in hook.events for f in audit_webhook(facts(), event)]
    assert not wrong, wrong


def drain(client: TestClient) -> dict[str, int]:
    response = client.post("/_sandbox/webhooks/drain", json={})
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()
    return result


def set_target(api: Api, url: str) -> None:
    response = api.call("UpdateShopOA", {"oa_id": api.oa_id, "webhook_url": url})
    assert response.status_code == 200, response.text
    assert response.json()["webhook_url"] == url and response.json()["oa_id"] == api.oa_id


def test_events_arrive_in_order_per_oa(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        agreed = shop.request_consent(phone=AGREES)
        shop.request_consent(phone=REJECTS)
        shop.request_consent(phone=IGNORES)
        move_clock(live, advance="1d")
        assert drain(live) == {"delivered": 6, "failed": 0, "pending": 0}
    names = [
        (e["event_name"], e.get("request_type") or e.get("user_consent"), e["phone"])
        for e in hook.events
    ]
    assert names == [
        ("oa_send_consent", "SENT", "84900000001"),
        ("oa_send_consent", "SENT", "84900000002"),
        ("oa_send_consent", "SENT", "84900000003"),
        ("user_reply_consent", "ALLOW", "84900000001"),
        ("user_reply_consent", "DENY", "84900000002"),
        ("oa_send_consent", "EXPIRED", "84900000003"),
    ]
    first = hook.events[0]
    assert first["oa_id"] == DEMO_OA and first["app_id"]
    assert first["create_time"] == 1767225600000  # epoch ms of START
    allow = hook.events[3]
    assert allow["confirmed_time"] == 1767225660000
    assert allow["expired_time"] == 1767225660000 + 30 * 86400 * 1000
    assert agreed["phone"] == AGREES


def test_deadline_sends_expired(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        shop.request_consent(phone=IGNORES)
        move_clock(live, advance="24h")
        drain(live)
    assert [e.get("request_type") for e in hook.events] == ["SENT", "EXPIRED"]
    assert hook.events[1]["expired_time"] == 1767225600000 + 86400 * 1000


def test_failing_target_is_retried_then_given_up(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        hook.status = 500
        set_target(shop, hook.url)
        shop.request_consent(phone=IGNORES)
        assert drain(live) == {"delivered": 0, "failed": 1, "pending": 0}
    log = live.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert len(log) == 1
    entry = log[0]
    assert (entry["state"], entry["attempts"]) == ("failed", 5)
    assert [a["status"] for a in entry["log"]] == [500] * 5
    assert entry["event"]["request_type"] == "SENT"


def test_a_target_that_recovers_gets_everything_once(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        hook.fail_next = 2
        shop.request_consent(phone=AGREES)
        move_clock(live, advance="2m")
        assert drain(live) == {"delivered": 2, "failed": 0, "pending": 0}
    assert [e.get("request_type") or e.get("user_consent") for e in hook.events] == [
        "SENT",
        "ALLOW",
    ]
    log = live.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert [[a["status"] for a in e["log"]] for e in log] == [[503, 503, 204], [204]]


def test_no_target_no_events_and_control_targets(live: TestClient, shop: Api) -> None:
    shop.request_consent(phone=AGREES)
    assert drain(live) == {"delivered": 0, "failed": 0, "pending": 0}
    with receiver() as hook:
        other = new_shop(live)
        put = live.put(
            "/_sandbox/webhooks",
            json={"shop_id": DEMO.demo_shop_id, "oa_id": DEMO_OA, "url": hook.url},
        )
        assert put.status_code == 200
        assert put.json()["targets"] == [
            {"shop_id": str(DEMO.demo_shop_id), "oa_id": DEMO_OA, "url": hook.url}
        ]
        other.request_consent(phone=AGREES)  # another shop's OA: not our target
        move_clock(live, advance="2m")  # the first consent's reply is now sent
        drain(live)
        assert [e.get("user_consent") for e in hook.events] == ["ALLOW"]
    off = live.put(
        "/_sandbox/webhooks", json={"shop_id": DEMO.demo_shop_id, "oa_id": DEMO_OA, "url": ""}
    )
    assert off.json()["targets"] == []


def test_update_shop_oa_needs_an_own_oa_and_a_url(live: TestClient, shop: Api) -> None:
    other = new_shop(live)
    refused = shop.call("UpdateShopOA", {"oa_id": other.oa_id, "webhook_url": "http://x"})
    assert refused.status_code == 404
    bad = shop.call("UpdateShopOA", {"oa_id": shop.oa_id, "webhook_url": "ftp://x"})
    assert bad.status_code == 400 and bad.json()["meta"] == {"argument": "webhook_url"}


@pytest.mark.parametrize("url", ["http://a/\u0000x", "http://a\u0000b/", "http://u\u0000@a/"])
def test_a_url_holding_a_nul_is_refused_on_every_store(
    live: TestClient, shop: Api, url: str
) -> None:
    """PostgreSQL's text cannot hold a NUL character: such a URL is refused by both specs, on
    every store alike, before any store sees it."""
    wire = shop.call("UpdateShopOA", {"oa_id": shop.oa_id, "webhook_url": url})
    assert wire.status_code == 400 and wire.json()["meta"] == {"argument": "webhook_url"}
    body = {"shop_id": DEMO.demo_shop_id, "oa_id": DEMO_OA, "url": url}
    control = live.put("/_sandbox/webhooks", json=body)
    assert control.status_code == 400 and control.json()["meta"] == {"argument": "url"}
    fine = shop.call("UpdateShopOA", {"oa_id": shop.oa_id, "webhook_url": "http://a/x"})
    assert fine.status_code == 200


def test_journal_keeps_bodies_not_keys(live: TestClient, shop: Api) -> None:
    shop.request_consent(phone=AGREES)
    shop.page(filter={"phone": AGREES})
    shop.call("ListRequestConsent", {"filter": {"call_type": "fax"}})
    everything = live.get("/_sandbox/journal").json()["requests"]
    assert [r["path"] for r in everything[-3:]] == [
        "/v1/shop.Zalo/RequestConsent",
        "/v1/shop.Zalo/ListRequestConsent",
        "/v1/shop.Zalo/ListRequestConsent",
    ]
    assert everything[-3]["request"]["phone"] == AGREES
    assert everything[-1]["status"] == 400
    assert everything[-1]["response"]["code"] == "invalid_argument"
    lists = live.get("/_sandbox/journal", params={"path": "ListRequest", "limit": 1}).json()
    assert len(lists["requests"]) == 1 and lists["requests"][0]["status"] == 400
    assert DEMO.demo_api_key not in str(everything)
    assert live.get("/_sandbox/journal", params={"limit": 0}).status_code == 400


def test_control_token_guards_every_control_call() -> None:
    settings = Settings(store="memory", clock_start=START, clock_rate=0, control_token="s3cret")
    with TestClient(create_app(settings, SPECS)) as client:
        for method, path in (
            ("GET", "/_sandbox/health"),
            ("POST", "/_sandbox/reset"),
            ("GET", "/_sandbox/clock"),
            ("GET", "/_sandbox/journal"),
        ):
            denied = client.request(method, path)
            assert denied.status_code == 401 and denied.json()["code"] == "unauthenticated"
            wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            body: dict[str, str] | None = {} if method == "POST" else None  # JSON for changes
            allowed = client.request(
                method, path, json=body, headers={"Authorization": "Bearer s3cret"}
            )
            assert allowed.status_code == 200, allowed.text
        # The wire API keeps using shop keys.
        wire = client.post(
            "/v1/shop.Zalo/ListRequestConsent",
            json={},
            headers={"Authorization": f"Bearer {DEMO.demo_api_key}"},
        )
        assert wire.status_code == 200


def test_a_serving_sandbox_sends_webhooks_by_itself() -> None:
    """No drain: the background sender delivers, and moves the world on as the clock runs."""
    settings = Settings(store="memory", clock_start=START, clock_rate=0)
    server = ThreadedServer(create_app(settings, SPECS)).start()
    try:
        with receiver() as hook, httpx.Client(base_url=server.url) as http:
            http.put(
                "/_sandbox/webhooks",
                json={"shop_id": DEMO.demo_shop_id, "oa_id": DEMO_OA, "url": hook.url},
            ).raise_for_status()
            body = {
                "oa_id": DEMO_OA,
                "phone": AGREES,
                "call_type": "audio",
                "reason_code": "update_order",
            }
            auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
            http.post("/v1/shop.Zalo/RequestConsent", json=body, headers=auth).raise_for_status()
            assert hook.arrived.wait(10), "the SENT event never came"
            hook.arrived.clear()
            # A fast clock: the customer's answer, due a minute later, comes on its own.
            http.post("/_sandbox/clock", json={"rate": 1000}).raise_for_status()
            assert hook.arrived.wait(10), "the ALLOW event never came"
        assert [e.get("request_type") or e.get("user_consent") for e in hook.events] == [
            "SENT",
            "ALLOW",
        ]
    finally:
        server.stop()


def test_the_spec_check_refuses_a_payload_it_does_not_describe() -> None:
    good = {
        "event_name": "oa_send_consent",
        "app_id": "1",
        "oa_id": DEMO_OA,
        "timestamp": "1767225600000",
        "phone": "84912345678",
        "request_type": "SENT",
        "create_time": 1767225600000,
        "expired_time": 1767312000000,
    }
    assert audit_webhook(facts(), good) == []
    for broken in (
        {**good, "phone": "0912345678"},
        {**good, "request_type": "ALLOW"},
        {**good, "event_name": "user_reply_consent"},
        {k: v for k, v in good.items() if k != "create_time"},
        {**good, "event_name": "oa_sent_consent"},
    ):
        assert audit_webhook(facts(), broken), broken


def test_an_event_is_delivered_again_on_request(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        made = shop.request_consent(phone=AGREES)
        assert drain(live)["delivered"] == 1
        (sent,) = live.get("/_sandbox/webhooks/deliveries", params={"state": "delivered"}).json()[
            "deliveries"
        ]
        assert sent["consent_id"] == made["id"] and sent["attempts"] == 1
        again = live.post("/_sandbox/webhooks/redeliver", json={"id": sent["id"]})
        assert again.status_code == 200, again.text
        assert (again.json()["state"], again.json()["attempts"]) == ("pending", 0)
        assert len(again.json()["log"]) == 1  # the first delivery stays in its log
        assert drain(live) == {"delivered": 1, "failed": 0, "pending": 0}
    assert [e["request_type"] for e in hook.events] == ["SENT", "SENT"]
    (twice,) = live.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert len(twice["log"]) == 2
    missing = live.post("/_sandbox/webhooks/redeliver", json={"id": 999})
    assert missing.status_code == 404 and missing.json()["meta"] == {"argument": "id"}
