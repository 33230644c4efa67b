"""Consents live over virtual time: delivery, replies, deadlines, forced actions, scenarios."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from tests.conftest import DEMO, DEMO_OA, START, Api, move_clock, new_shop
from tests.specs import SPECS

AGREES, REJECTS, IGNORES, NO_ZALO = "0900000001", "0900000002", "0900000003", "0900000004"
OA_QUOTA, SHORT_WINDOW, TOO_MANY, UNDELIVERED = (
    "0900000005",
    "0900000006",
    "0900000007",
    "0900000008",
)


def current(api: Api, consent: dict[str, Any]) -> dict[str, Any]:
    page = api.page(filter={"phone": consent["phone"]})["consents"]
    (found,) = [c for c in page if c["id"] == consent["id"]]
    result: dict[str, Any] = found
    return result


def check(api: Api, phone: str) -> dict[str, Any]:
    response = api.call("CheckConsent", {"oa_id": api.oa_id, "phone": phone})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_agreeing_customer_walks_through_every_state(live: TestClient, shop: Api) -> None:
    c = shop.request_consent(phone=AGREES)
    assert (c["delivery_status"], c["reply_status"], c["expires_at"]) == (
        "unknown",
        "S",
        "2026-01-02T00:00:00Z",
    )
    assert check(shop, AGREES)["error"] == 2  # request sent, not yet on the phone
    move_clock(live, advance="5s")
    now = current(shop, c)
    assert (now["delivery_status"], now["delivery_time"]) == ("received", "2026-01-01T00:00:05Z")
    assert now["updated_at"] == "2026-01-01T00:00:05Z"
    assert check(shop, AGREES)["error"] == 8  # waiting for approval
    move_clock(live, advance="25s")
    assert current(shop, c)["delivery_status"] == "seen"
    move_clock(live, advance="30s")
    now = current(shop, c)
    assert (now["reply_status"], now["updated_at"]) == ("P", "2026-01-01T00:01:00Z")
    assert now["expires_at"] == "2026-01-31T00:01:00Z"  # 30-day calling window
    assert check(shop, AGREES) == {
        "error": 0,
        "message": "approved",
        "expired_time": "2026-01-31T00:01:00Z",
    }
    move_clock(live, advance="30d")
    assert check(shop, AGREES)["error"] == 16  # the consent has expired
    assert current(shop, c)["reply_status"] == "P"  # an answer never changes


def test_rejecting_ignoring_and_undelivered_customers(live: TestClient, shop: Api) -> None:
    rejected = shop.request_consent(phone=REJECTS)
    ignored = shop.request_consent(phone=IGNORES)
    lost = shop.request_consent(phone=UNDELIVERED)
    move_clock(live, advance="1h")
    assert current(shop, rejected)["reply_status"] == "N"
    assert check(shop, REJECTS) == {"error": 3, "message": "rejected", "expired_time": None}
    assert current(shop, ignored)["reply_status"] == "S"
    assert current(shop, ignored)["delivery_status"] == "seen"
    assert current(shop, lost)["delivery_status"] == "unknown"
    move_clock(live, advance="23h")  # the 24 h reply window closes
    for consent in (ignored, lost):
        now = current(shop, consent)
        assert (now["reply_status"], now["updated_at"]) == ("NS", "2026-01-02T00:00:00Z")
    assert current(shop, lost)["delivery_time"] is None
    assert check(shop, IGNORES)["error"] == 16


@pytest.mark.parametrize(
    ("phone", "code", "check_code"),
    [(NO_ZALO, -213, 9), (OA_QUOTA, -224, 20), (TOO_MANY, 5, 5)],
)
def test_immediate_failures(shop: Api, phone: str, code: int, check_code: int) -> None:
    c = shop.request_consent(phone=phone)
    assert (c["status"], c["error_code"], c["is_charged"]) == ("N", code, False)
    assert c["error_message"] and c["reply_status"] == "Z" and c["expires_at"] is None
    assert shop.page(filter={"status": "N"})["consents"] == [c]
    assert check(shop, phone)["error"] == check_code


def test_agreement_with_a_short_window_expires(live: TestClient, shop: Api) -> None:
    shop.request_consent(phone=SHORT_WINDOW)
    move_clock(live, advance="2m")
    assert check(shop, SHORT_WINDOW)["error"] == 0
    move_clock(live, advance="1h")
    assert check(shop, SHORT_WINDOW)["error"] == 16


def test_second_request_while_one_waits_fails_uncharged(live: TestClient, shop: Api) -> None:
    first = shop.request_consent(phone=IGNORES)
    second = shop.request_consent(phone="+84900000003")
    assert (second["status"], second["error_code"], second["is_charged"]) == ("N", 8, False)
    assert current(shop, first)["reply_status"] == "S"
    move_clock(live, advance="1d")  # the first is answered (NS): a new request goes out
    assert shop.request_consent(phone=IGNORES)["status"] == "P"


def test_no_request_ever_sent(shop: Api) -> None:
    assert check(shop, "0912345678") == {
        "error": 20,
        "message": "no request ever sent",
        "expired_time": None,
    }


def test_check_consent_with_another_shops_oa_is_refused(live: TestClient, shop: Api) -> None:
    other = new_shop(live)
    response = shop.call("CheckConsent", {"oa_id": other.oa_id, "phone": "0912345678"})
    assert response.status_code == 404


def force(client: TestClient, consent: dict[str, Any], action: str, expect: int = 200) -> Any:
    response = client.post("/_sandbox/force", json={"consent_id": consent["id"], "action": action})
    assert response.status_code == expect, response.text
    return response.json()


def test_forced_actions_win_over_the_plan(live: TestClient, shop: Api) -> None:
    c = shop.request_consent(phone=REJECTS)  # would reject after a minute
    move_clock(live, advance="10s")
    assert force(live, c, "seen")["delivery_status"] == "seen"
    agreed = force(live, c, "agree")
    assert (agreed["reply_status"], agreed["updated_at"]) == ("P", "2026-01-01T00:00:10Z")
    move_clock(live, advance="5m")
    assert current(shop, c)["reply_status"] == "P"  # the planned rejection no longer applies
    refused = force(live, c, "reject", expect=412)
    assert refused["code"] == "failed_precondition"


def test_forced_delivery_then_no_response(live: TestClient, shop: Api) -> None:
    c = shop.request_consent(phone=UNDELIVERED)
    received = force(live, c, "received")
    assert (received["delivery_status"], received["delivery_time"]) == ("received", START)
    assert force(live, c, "received", expect=412)["code"] == "failed_precondition"
    assert force(live, c, "no_response")["reply_status"] == "NS"
    # After the window closed, nothing can change the answer any more.
    assert force(live, c, "agree", expect=412)["code"] == "failed_precondition"
    assert current(shop, c)["reply_status"] == "NS"


def test_force_unknown_consent_or_action(live: TestClient) -> None:
    assert force(live, {"id": "42"}, "agree", expect=404)["code"] == "not_found"
    bad = live.post("/_sandbox/force", json={"consent_id": "42", "action": "dance"})
    assert bad.status_code == 400 and bad.json()["meta"] == {"argument": "action"}


def put_rules(client: TestClient, body: dict[str, Any], expect: int = 200) -> Any:
    response = client.put("/_sandbox/rules", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def test_rules_shop_first_then_global_then_magic(live: TestClient, shop: Api) -> None:
    other = new_shop(live)
    tables = put_rules(
        live,
        {
            "rules": [
                {"phone": AGREES, "outcome": "reject", "reply_after": "2m"},
                {"pattern": "8491[0-9]{7}", "outcome": "no_zalo"},
            ]
        },
    )
    assert len(tables["global"]) == 2 and len(tables["magic_phones"]) == 8
    put_rules(
        live,
        {
            "shop_id": DEMO.demo_shop_id,
            "rules": [{"pattern": "84912.*", "outcome": "agree", "reply_after": "1m"}],
        },
    )
    mine = shop.request_consent(phone="0912000001")  # the shop's rule wins
    theirs = other.request_consent(phone="0912000001")  # the global rule
    overridden = shop.request_consent(phone=AGREES)  # global rule before the magic phone
    assert (theirs["status"], theirs["error_code"]) == ("N", -213)
    move_clock(live, advance="3m")
    assert current(shop, mine)["reply_status"] == "P"
    assert current(shop, overridden)["reply_status"] == "N"
    assert list(live.get("/_sandbox/rules").json()["shops"]) == [str(DEMO.demo_shop_id)]


@pytest.mark.parametrize(
    ("rule", "argument"),
    [
        ({"outcome": "vanish"}, "rules[0].outcome"),
        ({"outcome": "agree", "reply_after": "soon"}, "rules[0].reply_after"),
        ({"outcome": "agree", "pattern": "(["}, "rules[0].pattern"),
        ({"outcome": "agree", "phone": "12"}, "rules[0].phone"),
    ],
)
def test_bad_rules_are_invalid_argument(
    live: TestClient, rule: dict[str, Any], argument: str
) -> None:
    error = put_rules(live, {"rules": [rule]}, expect=400)
    assert error["meta"] == {"argument": argument}


def test_scenario_file_sets_the_global_rules(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "fixtures" / "scenarios" / "example-rules.yaml"
    settings = Settings(store="memory", clock_start=START, clock_rate=0, scenarios=str(example))
    with TestClient(create_app(settings, SPECS)) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
        c = api.request_consent(phone="0981234567")  # "Viettel 098 numbers agree after 10 min"
        move_clock(client, advance="10m")
        assert current(api, c)["reply_status"] == "P"
        assert client.get("/_sandbox/rules").json()["global"][0]["outcome"] == "agree"


@pytest.mark.parametrize("content", ["rules: [{outcome: fly}]", "rules: [", "{}"])
def test_a_bad_scenario_file_stops_start_up(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ValueError, match="scenario file"):
        create_app(Settings(store="memory", scenarios=str(path)))


def test_random_default_follows_the_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        settings = Settings(store="memory", clock_start=START, clock_rate=0, seed=seed)
        with TestClient(create_app(settings, SPECS)) as client:
            api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
            made = [api.request_consent(phone=f"097{n:07d}") for n in range(100)]
            move_clock(client, advance="2d")
            return [current(api, c)["reply_status"] for c in made]

    first = outcomes(1)
    assert first == outcomes(1)
    assert first != outcomes(2)
    assert set(first) == {"P", "N", "NS"}  # 70 % agree, 10 % reject, the rest never answer
    assert first.count("P") > first.count("N")


def test_clock_reads_moves_and_never_goes_back(live: TestClient) -> None:
    assert live.get("/_sandbox/clock").json() == {"now": START, "rate": 0.0, "frozen": True}
    assert move_clock(live, advance="1h30m")["now"] == "2026-01-01T01:30:00Z"
    assert move_clock(live, set="2026-02-01T00:00:00Z")["now"] == "2026-02-01T00:00:00Z"
    back = live.post("/_sandbox/clock", json={"set": "2026-01-01T00:00:00Z"})
    assert back.status_code == 409 and back.json()["code"] == "aborted"
    running = move_clock(live, rate=1)
    assert (running["rate"], running["frozen"]) == (1.0, False)
    now = datetime.fromisoformat(live.get("/_sandbox/clock").json()["now"])
    assert now >= datetime(2026, 2, 1, tzinfo=UTC)
    for bad in ({}, {"advance": "soon"}, {"rate": -1}, {"set": "tomorrow"}):
        assert live.post("/_sandbox/clock", json=bad).status_code == 400


def test_two_workers_on_one_sqlite_file_agree(tmp_path: Path) -> None:
    settings = Settings(
        store=f"sqlite:{tmp_path / 'shared.sqlite3'}", clock_start=START, clock_rate=0
    )
    with (
        TestClient(create_app(settings, SPECS)) as one,
        TestClient(create_app(settings, SPECS)) as two,
    ):
        first = Api(one, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
        second = Api(two, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
        c = first.request_consent(phone=AGREES)
        move_clock(one, advance="2m")
        assert two.get("/_sandbox/clock").json()["now"] == "2026-01-01T00:02:00Z"
        assert current(second, c)["reply_status"] == "P"
        assert current(first, c)["reply_status"] == "P"
