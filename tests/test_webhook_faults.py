"""Fault rules on webhook deliveries, seen from a real receiver: attempts that fail before they
are sent, an event delivered twice, two events out of order, a delivery held on the virtual
clock or in wall time. Each attempt a rule touched names it in the delivery log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, START, Api, move_clock, new_shop
from tests.specs import SPECS
from tests.test_lifecycle import AGREES, IGNORES
from tests.test_webhooks import drain, receiver, set_target


@pytest.fixture(params=["memory", "sqlite"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """conftest's `live`, with a drain that gives up after 1 s rather than 5: here a drain
    often leaves an event held pending (it answers at once when only the frozen virtual clock
    holds them; a wall-clock hold it waits out, within its budget)."""
    store = "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'live.sqlite3'}"
    settings = Settings(store=store, clock_start=START, clock_rate=0, drain_seconds=1)
    with TestClient(create_app(settings, SPECS)) as client:
        yield client


def put_faults(client: TestClient, *rules: dict[str, Any], **body: Any) -> Any:
    response = client.put("/_sandbox/faults", json={"faults": list(rules), **body})
    assert response.status_code == 200, response.text
    return response.json()


def log(client: TestClient) -> list[list[tuple[int | None, str]]]:
    """Each event's attempts: (status, fault rule)."""
    deliveries = client.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    return [[(a["status"], a["fault"]) for a in d["log"]] for d in deliveries]


def kinds(events: list[Any]) -> list[str]:
    return [e.get("request_type") or e.get("user_consent") for e in events]


def test_the_next_deliveries_to_a_target_fail_then_arrive(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        put_faults(
            live,
            {
                "id": "down",
                "match": {"event": "*", "url": hook.url},
                "action": {"drop": True},
                "when": {"times": 2},
            },
        )
        shop.request_consent(phone=IGNORES)
        assert drain(live) == {"delivered": 1, "failed": 0, "pending": 0}
    assert kinds(hook.events) == ["SENT"]  # once: the two dropped attempts never left
    assert log(live) == [[(None, "down"), (None, "down"), (204, "")]]


def test_dropping_every_attempt_fails_the_event(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        put_faults(live, {"match": {"event": "oa_send_consent"}, "action": {"drop": True}})
        shop.request_consent(phone=IGNORES)
        assert drain(live) == {"delivered": 0, "failed": 1, "pending": 0}
    assert hook.events == []
    assert log(live) == [[(None, "fault-1")] * 5]  # webhook_max_attempts


def test_an_event_delivered_twice(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        put_faults(
            live,
            {
                "id": "twice",
                "match": {"event": "user_reply_consent"},
                "action": {"duplicate": True},
            },
        )
        shop.request_consent(phone=AGREES)
        move_clock(live, advance="2m")
        assert drain(live) == {"delivered": 2, "failed": 0, "pending": 0}
    assert kinds(hook.events) == ["SENT", "ALLOW", "ALLOW"]
    assert hook.events[1] == hook.events[2]  # the same event, byte for byte
    assert log(live) == [[(204, "")], [(204, "twice"), (204, "twice")]]


def test_two_events_out_of_order(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        put_faults(
            live,
            {
                "id": "swap",
                "match": {"event": "oa_send_consent", "phone": AGREES},
                "action": {"reorder": True},
                "when": {"times": 1},
            },
        )
        shop.request_consent(phone=AGREES)
        # SENT waits for the OA's next event, which comes when the customer agrees.
        assert drain(live) == {"delivered": 0, "failed": 0, "pending": 1}
        move_clock(live, advance="2m")
        assert drain(live) == {"delivered": 2, "failed": 0, "pending": 0}
    assert kinds(hook.events) == ["ALLOW", "SENT"]
    assert log(live) == [[(204, "swap")], [(204, "")]]


def test_a_delivery_held_on_the_virtual_clock(live: TestClient, shop: Api) -> None:
    with receiver() as hook:
        set_target(shop, hook.url)
        put_faults(
            live,
            {
                "id": "late",
                "match": {"event": "*", "oa_id": DEMO_OA},
                "action": {"delay": {"fixed": "5m", "clock": "virtual"}},
                "when": {"times": 1},
            },
        )
        shop.request_consent(phone=AGREES)
        assert drain(live) == {"delivered": 0, "failed": 0, "pending": 1}  # held 5m from now
        move_clock(live, advance="2m")  # ALLOW is queued behind the held SENT (in order)
        assert drain(live) == {"delivered": 0, "failed": 0, "pending": 2}
        move_clock(live, advance="3m")
        assert drain(live) == {"delivered": 2, "failed": 0, "pending": 0}
    assert kinds(hook.events) == ["SENT", "ALLOW"]
    assert log(live) == [[(204, "late")], [(204, "")]]


def test_a_drain_does_not_wait_for_what_only_the_frozen_clock_frees(tmp_path: Path) -> None:
    """A drain's budget is 30 s here; an event held 5 virtual minutes on a frozen clock is
    answered as pending at once, not when the budget is spent. (The join's 10 s is a bound on
    a drain that would wait, not a timing: the answer comes in milliseconds.)"""
    settings = Settings(store="memory", clock_start=START, clock_rate=0, drain_seconds=30)
    with TestClient(create_app(settings, SPECS)) as client, receiver() as hook:
        shop = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
        set_target(shop, hook.url)
        late = {"delay": {"fixed": "5m", "clock": "virtual"}}
        put_faults(client, {"match": {"event": "*"}, "action": late, "when": {"times": 1}})
        shop.request_consent(phone=AGREES)
        answers: list[dict[str, int]] = []
        drainer = threading.Thread(target=lambda: answers.append(drain(client)), daemon=True)
        drainer.start()
        drainer.join(10)
        assert answers == [{"delivered": 0, "failed": 0, "pending": 1}]
        move_clock(client, advance="5m")
        assert drain(client) == {"delivered": 2, "failed": 0, "pending": 0}
    assert kinds(hook.events) == ["SENT", "ALLOW"]


def test_other_shops_deliveries_are_untouched(live: TestClient, shop: Api) -> None:
    other = new_shop(live)
    with receiver() as hook:
        set_target(shop, hook.url)
        set_target(other, hook.url)
        put_faults(
            live,
            {"match": {"event": "*"}, "action": {"drop": True}},
            shop_id=str(DEMO.demo_shop_id),
        )
        other.request_consent(phone=IGNORES)
        assert drain(live)["delivered"] == 1
    assert [e["oa_id"] for e in hook.events] == [other.oa_id]


def test_a_wall_clock_delay_holds_the_background_sender() -> None:
    settings = Settings(store="memory", clock_start=START, clock_rate=0)
    with (
        receiver() as hook,
        ThreadedServer(create_app(settings, SPECS)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        target = {"shop_id": DEMO.demo_shop_id, "oa_id": DEMO_OA, "url": hook.url}
        http.put("/_sandbox/webhooks", json=target).raise_for_status()
        rule = {"match": {"event": "*"}, "action": {"delay": {"fixed": "300ms"}}}
        http.put("/_sandbox/faults", json={"faults": [rule]}).raise_for_status()
        body = {
            "oa_id": DEMO_OA,
            "phone": IGNORES,
            "call_type": "audio",
            "reason_code": "update_order",
        }
        auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
        started = time.monotonic()
        http.post("/v1/shop.Zalo/RequestConsent", json=body, headers=auth).raise_for_status()
        assert hook.arrived.wait(10), "the held event never came"
        assert time.monotonic() - started >= 0.3
    assert kinds(hook.events) == ["SENT"]
