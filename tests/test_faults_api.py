"""/_sandbox/faults through the control API: lists, counts, first match, scopes, the virtual
clock, the one-off headers, what is refused (by field), and rules shared by workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from tests.conftest import DEMO, DEMO_OA, JSON_CALLS, QUIET, START, Api, move_clock, new_shop
from tests.specs import SPECS

BUSY = {"error": {"code": "unavailable"}}


@pytest.fixture(params=["memory", "sqlite"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    store = "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'faults.sqlite3'}"
    settings = Settings(store=store, clock_start=START, clock_rate=0, fault_headers="on", **QUIET)
    with TestClient(create_app(settings, SPECS), headers=JSON_CALLS) as client:
        yield client


@pytest.fixture
def demo(sandbox: TestClient) -> Api:
    return Api(sandbox, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)


def put(client: TestClient, *rules: dict[str, Any], expect: int = 200, **body: Any) -> Any:
    response = client.put("/_sandbox/faults", json={"faults": list(rules), **body})
    assert response.status_code == expect, response.text
    return response.json()


def rule(operation: str | list[str] = "ListOA", **fields: Any) -> dict[str, Any]:
    match = {"operation": operation, **fields.pop("match", {})}
    return {"match": match, "action": fields.pop("action", BUSY), **fields}


def list_oa(api: Api, **headers: str) -> Any:
    return api.client.post(
        "/v1/shop.Zalo/ListOA",
        json={},
        headers={"Authorization": f"Bearer {api.api_key}", **headers},
    )


def test_put_add_list_and_delete(sandbox: TestClient, demo: Api) -> None:
    put(sandbox, rule(id="fault-1"), rule())  # the second gets the first free name
    added = sandbox.post("/_sandbox/faults", json={"shop_id": DEMO.demo_shop_id, "fault": rule()})
    assert added.status_code == 201
    assert added.json()["id"] == "fault-1"  # the shop's list has its own names
    taken = sandbox.post("/_sandbox/faults", json={"fault": rule(id="fault-2")})
    assert taken.status_code == 409 and taken.json()["code"] == "already_exists"
    tables = sandbox.get("/_sandbox/faults").json()
    assert [r["id"] for r in tables["global"]] == ["fault-1", "fault-2"]
    assert list(tables["shops"]) == [str(DEMO.demo_shop_id)]
    assert tables["global"][0] == {
        **rule(id="fault-1"),
        "matched": 0,
        "hits": 0,
        "active": True,
        "remaining": None,
        "expires_at": None,
    }
    assert tables["held"] == 0
    left = sandbox.delete("/_sandbox/faults", params={"shop_id": DEMO.demo_shop_id}).json()
    assert (len(left["global"]), left["shops"]) == (2, {})
    assert sandbox.delete("/_sandbox/faults").json()["global"] == []
    assert list_oa(demo).status_code == 200


def test_a_shops_rules_come_first_and_the_first_match_wins(sandbox: TestClient, demo: Api) -> None:
    other = new_shop(sandbox)
    put(sandbox, rule(id="everyone"), rule(id="never-reached", action={"drop": True}))
    put(
        sandbox,
        rule(id="demo-only", action={"error": {"code": "internal", "msg": "boom"}}),
        shop_id=str(DEMO.demo_shop_id),
    )
    mine = list_oa(demo)
    assert (mine.status_code, mine.json()["msg"]) == (500, "boom")
    assert mine.headers["X-Sandbox-Fault-Rule"] == "demo-only"
    theirs = list_oa(other)
    assert (theirs.status_code, theirs.headers["X-Sandbox-Fault-Rule"]) == (503, "everyone")
    counts = sandbox.get("/_sandbox/faults").json()
    assert [r["hits"] for r in counts["global"]] == [1, 0]


def test_a_rule_that_does_not_fire_lets_the_next_one_try(sandbox: TestClient, demo: Api) -> None:
    put(
        sandbox,
        rule(id="never", when={"probability": 0}),
        rule(id="always", action={"error": {"code": "aborted"}}),
    )
    assert [list_oa(demo).status_code for _ in range(3)] == [409] * 3
    never, always = sandbox.get("/_sandbox/faults").json()["global"]
    assert (never["matched"], never["hits"], always["hits"]) == (3, 0, 3)


@pytest.mark.parametrize(
    ("match", "hits"),
    [
        ({"operation": "CheckConsent", "phone": "+84912345678"}, [True, True, False]),
        ({"operation": "CheckConsent", "oa_id": DEMO_OA}, [True, True, True]),
        ({"operation": "CheckConsent", "side": "partner"}, [False, True, False]),
        ({"operation": "shopCheckConsent"}, [True, False, True]),
        ({"operation": ["ListOA", "CheckConsent"], "shop_id": "1"}, [False, False, False]),
        ({"operation": "*"}, [True, True, True]),
    ],
)
def test_what_a_rule_matches(
    sandbox: TestClient, demo: Api, match: dict[str, Any], hits: list[bool]
) -> None:
    put(sandbox, {"match": match, "action": BUSY})
    calls = [
        demo.call("CheckConsent", {"oa_id": DEMO_OA, "phone": "0912345678"}),
        demo.call("CheckConsent", {"oa_id": DEMO_OA, "phone": "84912345678"}, partner=True),
        demo.call("CheckConsent", {"oa_id": DEMO_OA, "phone": "0912345679"}),
    ]
    assert [c.status_code == 503 for c in calls] == hits


def test_ttl_runs_on_the_virtual_clock(sandbox: TestClient, demo: Api) -> None:
    (state,) = put(sandbox, rule(when={"ttl": "10m"}))["global"]
    assert state["expires_at"] == "2026-01-01T00:10:00Z"
    move_clock(sandbox, advance="9m")
    assert list_oa(demo).status_code == 503
    move_clock(sandbox, advance="1m")
    assert list_oa(demo).status_code == 200
    assert sandbox.get("/_sandbox/faults").json()["global"][0]["active"] is False


def test_an_after_fault_replaces_the_operations_own_error(sandbox: TestClient, demo: Api) -> None:
    put(sandbox, rule("RequestConsent", when={"phase": "after"}))
    refused = demo.call("RequestConsent", {"oa_id": DEMO_OA, "phone": "x"})
    assert refused.status_code == 503  # the answer (invalid_argument) was lost all the same


REFUSED = [
    (rule("Nope"), "faults[0].match.operation"),
    (rule(["ListOA", "Nope"]), "faults[0].match.operation[1]"),
    ({"match": {"event": "nope"}, "action": {"drop": True}}, "faults[0].match.event"),
    ({"match": {"operation": "*", "event": "*"}, "action": BUSY}, "faults[0].match"),
    ({"match": {"phone": "0912345678"}, "action": BUSY}, "faults[0].match"),
    ({"match": {"operation": "*", "url": "http://x"}, "action": BUSY}, "faults[0].match.url"),
    ({"match": {"event": "*", "side": "shop"}, "action": {"drop": True}}, "faults[0].match.side"),
    (rule(match={"phone": "12345"}), "faults[0].match.phone"),
    (rule(action={"error": {"code": "teapot"}}), "faults[0].action.error.code"),
    (rule(action={**BUSY, "drop": True}), "faults[0].action"),
    (rule(action={"duplicate": True}), "faults[0].action.duplicate"),
    ({"match": {"event": "*"}, "action": BUSY}, "faults[0].action.error"),
    ({"match": {"event": "*"}, "action": {"drop": True, "reorder": True}}, "faults[0].action"),
    (
        {"match": {"event": "*"}, "action": {"drop": True}, "when": {"phase": "after"}},
        "faults[0].when.phase",
    ),
    (rule(action={"truncate": True}), "faults[0].when.phase"),
    (rule(action={"delay": {"fixed": "1s", "clock": "virtual"}}), "faults[0].action.delay.clock"),
    (
        rule(action={"delay": {"fixed": "1s", "uniform": {"min": "1s", "max": "2s"}}}),
        "faults[0].action.delay",
    ),
    (rule(action={"delay": {"fixed": "2h"}}), "faults[0].action.delay.fixed"),
    (rule(action={"delay": {"fixed": "9" * 60 + "d"}}), "faults[0].action.delay.fixed"),
    (
        rule(action={"delay": {"uniform": {"min": "2s", "max": "1s"}}}),
        "faults[0].action.delay.uniform.max",
    ),
    (
        rule(action={"delay": {"lognormal": {"median": "0s", "p99": "1s"}}}),
        "faults[0].action.delay.lognormal.median",
    ),
    (rule(action={"delay": {"fixed": "soon"}}), "faults[0].action.delay.fixed"),
    (
        rule(action={"error": {"code": "internal", "retry_after": "1s"}}),
        "faults[0].action.error.retry_after",
    ),
    (
        rule(action={"error": {"code": "unavailable", "retry_after": "2d"}}),
        "faults[0].action.error.retry_after",
    ),
    (rule(when={"ttl": "99999d"}), "faults[0].when.ttl"),
    (rule(when={"times": 0}), "faults[0].when.times"),
    (rule(when={"probability": 1.5}), "faults[0].when.probability"),
    (rule(when={"time": 2}), "faults[0].when"),
    (rule(id="no spaces"), "faults[0].id"),
    (rule(action={}), "faults[0].action"),
]


@pytest.mark.parametrize(("document", "argument"), REFUSED)
def test_a_bad_rule_is_refused_naming_its_field(
    sandbox: TestClient, document: dict[str, Any], argument: str
) -> None:
    refused = put(sandbox, document, expect=400)
    assert (refused["code"], refused["meta"]) == ("invalid_argument", {"argument": argument})
    assert refused["msg"].startswith(argument)
    assert sandbox.get("/_sandbox/faults").json()["global"] == []  # nothing was set


def test_repeated_ids_and_a_long_wait_are_refused(sandbox: TestClient) -> None:
    refused = put(sandbox, rule(id="a"), rule(id="a"), expect=400)
    assert refused["meta"] == {"argument": "faults[1].id"}
    waited = sandbox.get("/_sandbox/faults", params={"wait": "2m"})
    assert waited.status_code == 400 and waited.json()["meta"] == {"argument": "wait"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Sandbox-Fault": "unavailable"}, 503),
        ({"X-Sandbox-Fault": "PERMISSION_DENIED"}, 403),
        ({"X-Sandbox-Fault": "unavailable; phase=after; retry_after=1s"}, 503),
        ({"X-Sandbox-Delay": "1ms"}, 200),
        ({"X-Sandbox-Fault": "teapot"}, 400),
        ({"X-Sandbox-Fault": "internal; retry_after=1s"}, 400),
        ({"X-Sandbox-Fault": "unavailable; colour=red"}, 400),
        ({"X-Sandbox-Fault": "truncate; phase=before"}, 400),
        ({"X-Sandbox-Delay": "2h"}, 400),
        ({"X-Sandbox-Delay": "later"}, 400),
    ],
)
def test_one_off_headers(demo: Api, headers: dict[str, str], status: int) -> None:
    answer = list_oa(demo, **headers)
    assert answer.status_code == status, answer.text
    if status == 400:
        assert answer.json()["meta"]["argument"].startswith(tuple(headers))


@pytest.mark.parametrize("mode", ["off", "loopback"])
def test_one_off_headers_are_ignored_unless_allowed(mode: str) -> None:
    # The test client is no loopback address: "loopback" ignores it, like "off".
    settings = Settings(store="memory", clock_start=START, clock_rate=0, fault_headers=mode)
    with TestClient(create_app(settings, SPECS), headers=JSON_CALLS) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
        assert list_oa(api, **{"X-Sandbox-Fault": "unavailable"}).status_code == 200
        assert list_oa(api, **{"X-Sandbox-Fault": "teapot"}).status_code == 200


def test_settings_the_edge_cannot_honour_stop_start_up() -> None:
    with pytest.raises(ValueError, match="fault_headers"):
        create_app(Settings(store="memory", fault_headers="sometimes"))
    with pytest.raises(ValueError, match="fault_hang_seconds"):
        create_app(Settings(store="memory", fault_hang_seconds=0))


def test_reset_forgets_the_rules(sandbox: TestClient, demo: Api) -> None:
    put(sandbox, rule())
    assert sandbox.post("/_sandbox/reset").status_code == 200
    assert sandbox.get("/_sandbox/faults").json()["global"] == []
    assert list_oa(demo).status_code == 200


def test_workers_on_one_sqlite_file_share_rules_and_counts(tmp_path: Path) -> None:
    settings = Settings(
        store=f"sqlite:{tmp_path / 'shared.sqlite3'}", clock_start=START, clock_rate=0
    )
    with (
        TestClient(create_app(settings, SPECS), headers=JSON_CALLS) as one,
        TestClient(create_app(settings, SPECS), headers=JSON_CALLS) as two,
    ):
        put(one, rule(when={"times": 3}))
        apis = [Api(c, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA) for c in (one, two)]
        statuses = [list_oa(apis[n % 2]).status_code for n in range(6)]
        assert statuses == [503, 503, 503, 200, 200, 200]
        (state,) = two.get("/_sandbox/faults").json()["global"]
        assert (state["hits"], state["active"]) == (3, False)
