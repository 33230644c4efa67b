"""Nothing breaks it: extreme values are carried through or refused with the field named, an
unexpected error answers Twirp `internal` on a connection that stays open, no key is kept, and
CheckConsent is right whatever the history."""

from __future__ import annotations

import logging
import socket
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.domain.model import ConsentRow
from mock_server.http.codec import EncodedConsents
from mock_server.services.consents import ConsentService
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, START, Api, move_clock, new_shop
from tests.specs import SPECS
from tests.test_lifecycle import AGREES, NO_ZALO

INT64_MAX = 2**63 - 1
END = "9999-12-31T23:59:59.999Z"


def test_the_largest_int64_shop_id_works_and_the_next_shop_still_gets_one(
    client: TestClient,
) -> None:
    biggest = new_shop(client, shop_id=str(INT64_MAX), oa_ids=[str(INT64_MAX)])
    assert biggest.request_consent()["shop_id"] == str(INT64_MAX)
    assert biggest.page(filter={"oa_id": str(INT64_MAX)})["consents"]
    after = client.post("/_sandbox/shops", json={})
    assert after.status_code == 201, after.text
    assert 0 < int(after.json()["shop_id"]) <= INT64_MAX


@pytest.mark.parametrize(
    "body",
    [
        {"advance": "3000000d"},
        {"advance": "999999999d"},
        {"advance": "9999999999999999999ms"},
        {"set": "9999-12-31T23:59:59-01:00"},
    ],
)
def test_a_clock_move_past_the_end_of_time_stops_there(
    client: TestClient, api: Api, body: dict[str, str]
) -> None:
    moved = client.post("/_sandbox/clock", json=body)
    assert moved.status_code == 200, moved.text
    assert moved.json()["now"] == END == client.get("/_sandbox/clock").json()["now"]
    made = api.request_consent()  # still works, at the end of time
    assert made["created_at"] == made["expires_at"] == END
    back = client.post("/_sandbox/clock", json={"set": START})
    assert back.status_code == 409 and back.json()["code"] == "aborted"


def test_a_duration_longer_than_the_spec_allows_is_refused(client: TestClient) -> None:
    before = client.get("/_sandbox/clock").json()
    moved = client.post("/_sandbox/clock", json={"advance": "1" * 70 + "d"})
    assert moved.status_code == 400 and moved.json()["meta"]["argument"] == "advance"
    assert client.get("/_sandbox/clock").json() == before


def test_the_last_instant_is_usable(client: TestClient, api: Api) -> None:
    move_clock(client, set="9999-12-31T23:59:59Z")
    made = api.request_consent()
    assert made["created_at"] == "9999-12-31T23:59:59Z"
    assert made["expires_at"] == "9999-12-31T23:59:59.999Z"  # the window saturates
    assert api.page()["consents"][0]["id"] == made["id"]
    assert client.get("/_sandbox/clock").json()["now"].startswith("9999-12-31T23:59:59")


@pytest.mark.parametrize(
    "instant",
    ["2026-12-31T23:59:60Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00"],
)
def test_any_rfc3339_filter_instant_lists(api: Api, instant: str) -> None:
    api.request_consent()
    for bound in ("date_from", "date_to"):
        page = api.page(filter={bound: instant})
        assert isinstance(page["consents"], list)


def test_a_webhook_url_that_no_client_can_reach_is_refused_or_logged(
    client: TestClient, api: Api
) -> None:
    refused = api.call("UpdateShopOA", {"oa_id": DEMO_OA, "webhook_url": "http://127.0.0.1:9:9/"})
    assert refused.status_code == 400 and refused.json()["meta"]["argument"] == "webhook_url"
    # A URL the spec accepts but no socket can take: a failed attempt, logged, not a 500.
    odd = api.call("UpdateShopOA", {"oa_id": DEMO_OA, "webhook_url": "http://127.0.0.1:99999/x"})
    assert odd.status_code == 200
    api.request_consent()
    drained = client.post("/_sandbox/webhooks/drain", json={})
    assert drained.status_code == 200 and drained.json()["failed"] == 1
    (entry,) = client.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert entry["state"] == "failed" and entry["log"][0]["error"]


def test_a_key_with_a_control_character_is_refused(client: TestClient) -> None:
    response = client.post("/_sandbox/shops", json={"api_key": "9:a\u0000b"})
    assert response.status_code == 400 and response.json()["meta"]["argument"] == "api_key"


def test_an_unexpected_error_is_internal_and_the_connection_stays_open(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ConsentService, "list_request_consent", boom)
    settings = Settings(store="memory", clock_start=START, clock_rate=0)
    caplog.set_level(logging.ERROR)
    with (
        ThreadedServer(create_app(settings, SPECS)) as server,
        socket.create_connection(
            (server.url.split("//")[1].split(":")[0], int(server.url.rsplit(":", 1)[1]))
        ) as conn,
    ):
        reader = conn.makefile("rb")
        for path, expect in (
            ("/v1/shop.Zalo/ListRequestConsent", b"500"),
            ("/v1/shop.Zalo/CheckConsent", b"200"),
        ):
            body = (
                b"{}"
                if "List" in path
                else b'{"oa_id": "%s", "phone": "0912345678"}' % (DEMO_OA.encode())
            )
            conn.sendall(
                b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s"
                % (path.encode(), DEMO.demo_api_key.encode(), len(body), body)
            )
            status = reader.readline()
            assert expect in status, status
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answer = reader.read(length)
            if expect == b"500":
                assert b'"code":"internal"' in answer
    tracebacks = [r for r in caplog.records if r.exc_info and "a bug" in str(r.exc_info[1])]
    assert len(tracebacks) == 1


def test_no_key_is_kept_in_the_journal(client: TestClient) -> None:
    made = client.post("/_sandbox/shops", json={"api_key": "77:secret-a", "shop_key": "s77:sb"})
    assert made.status_code == 201
    shop = Api(client, "77:secret-a", "s77:sb", made.json()["oa_ids"][0])
    # A client that echoes its key in a field of its own.
    shop.call("ListRequestConsent", {"note": "my key is 77:secret-a", "api_key": "77:secret-a"})
    text = httpx.Response(200, content=client.get("/_sandbox/journal").content).text
    assert "secret-a" not in text and "s77:sb" not in text
    assert '"api_key":"***"' in text.replace(" ", "")


def test_a_control_token_is_not_kept() -> None:
    settings = Settings(store="memory", control_token="tok-123456")
    with TestClient(create_app(settings, SPECS)) as client:
        auth = {"Authorization": "Bearer tok-123456"}
        put = client.put("/_sandbox/rules", json={"rules": [], "note": "tok-123456"}, headers=auth)
        assert put.status_code == 200
        text = client.get("/_sandbox/journal", headers=auth).text
    assert "tok-123456" not in text


def test_check_consent_sees_an_agreement_behind_a_long_history(live: TestClient, shop: Api) -> None:
    """An agreement, then more failed and refused requests than any page holds."""
    shop.request_consent(phone=AGREES)
    move_clock(live, advance="2m")  # the magic phone agrees after a minute
    assert shop.page(filter={"phone": AGREES})["consents"][0]["reply_status"] == "P"
    for _ in range(120):  # each a waiting duplicate or a new request: none is an agreement
        shop.request_consent(phone=AGREES)
    client_rules = {
        "shop_id": str(DEMO.demo_shop_id),
        "rules": [{"phone": AGREES, "outcome": "no_zalo"}],
    }
    assert live.put("/_sandbox/rules", json=client_rules).status_code == 200
    for _ in range(60):
        shop.request_consent(phone=AGREES)
    answer = shop.call("CheckConsent", {"oa_id": DEMO_OA, "phone": AGREES}).json()
    assert answer["error"] == 0, answer
    # And a phone that only ever failed: Zalo's code for -213, whatever the number of tries.
    for _ in range(120):
        shop.request_consent(phone=NO_ZALO)
    assert shop.call("CheckConsent", {"oa_id": DEMO_OA, "phone": NO_ZALO}).json()["error"] == 9


def test_shops_keep_getting_ids_after_the_largest_is_taken(client: TestClient) -> None:
    assert client.post("/_sandbox/shops", json={"shop_id": str(INT64_MAX)}).status_code == 201
    made = [client.post("/_sandbox/shops", json={}) for _ in range(30)]
    assert [m.status_code for m in made] == [201] * 30
    assert len({m.json()["shop_id"] for m in made}) == 30


def stored_row(n: int) -> ConsentRow:
    """A consent's row as a store reads it, id and times `n`: one encoded-cache entry each."""
    return (
        n,
        1,
        2,
        3,
        "0912345678",
        "84912345678",
        "audio",
        "update_order",
        "P",
        "S",
        "unknown",
        None,
        True,
        0,
        "",
        None,
        n,
        n,
    )


def test_the_encoded_consent_cache_stays_within_its_budget_oldest_out_first() -> None:
    cache = EncodedConsents(budget_bytes=20_000)
    first = [cache.get(stored_row(n)) for n in range(200)]
    assert 0 < cache.size <= 20_000
    assert cache.get(stored_row(199)) is first[199]  # the newest is kept
    assert cache.get(stored_row(0)) is not first[0]  # the oldest went first, and is made again
    assert cache.size <= 20_000


def test_the_encoded_consent_cache_holds_what_its_budget_counts() -> None:
    """The budget counts what an entry holds: its JSON (a copy: orjson's own output keeps 4 KiB
    or more) and its key, so the memory held is about what it counts."""
    import tracemalloc

    cache = EncodedConsents(budget_bytes=10**9)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(2000):
        cache.get(stored_row(n))
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    per_entry = held / 2000
    assert cache.size / 2000 < 2000  # the JSON of one consent and its key
    counted = cache.size / 2000
    assert 0.4 * counted < per_entry < 1.2 * counted, f"{per_entry:.0f} held, {counted:.0f} counted"
