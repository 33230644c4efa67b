"""Three `serve` processes on one PostgreSQL database, as a team runs them behind a load
balancer: they agree on every shop, consent, rule, event, webhook and the clock; writes made at
once on different instances all count; a reset is seen by all at once; each webhook event is
sent once; an instance killed -9 mid-traffic loses nothing it acknowledged."""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from contract_tests.receiver import receiving
from tests.conftest import DEMO, DEMO_OA, START
from tests.postgres import fresh_schema
from tests.processes import serving, serving_all
from tests.test_lifecycle import AGREES

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}


def args(store: str) -> list[str]:
    return ["--store", store, "--clock-start", START, "--clock-rate", "0"]


@pytest.fixture(scope="module")
def store() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


@pytest.fixture(scope="module")
def urls(store: str) -> Iterator[list[str]]:
    with serving_all([args(store)] * 3) as started:
        yield [url for url, _ in started]


def consent_body(oa: str, phone: str) -> dict[str, str]:
    return {"oa_id": oa, "phone": phone, "call_type": "audio", "reason_code": "update_order"}


def listed(url: str, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every consent of the shop, page by page, as one instance lists them."""
    found: dict[str, dict[str, Any]] = {}
    after = "."
    with httpx.Client(timeout=30) as http:
        while after:
            page = http.post(
                f"{url}/v1/shop.Zalo/ListRequestConsent",
                json={"paging": {"after": after, "sort": "created_at"}},
                headers=auth,
            ).json()
            found.update({c["id"]: c for c in page["consents"]})
            after = page["paging"]["next"]
    return found


def new_shop(url: str) -> tuple[dict[str, Any], dict[str, str]]:
    shop = httpx.post(f"{url}/_sandbox/shops", json={}).json()
    return shop, {"Authorization": f"Bearer {shop['api_key']}"}


def test_interleaved_writes_are_read_alike_everywhere(urls: list[str]) -> None:
    shop, auth = new_shop(urls[0])
    oa = shop["oa_ids"][0]
    made = []
    with httpx.Client(timeout=30) as http:
        for n, url in zip(range(30), itertools.cycle(urls)):
            body = consent_body(oa, f"0913{n:06d}")
            answer = http.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=auth)
            assert answer.status_code == 200, answer.text
            made.append(answer.json())
            # Read back at once on the next instance: it is there.
            other = urls[(urls.index(url) + 1) % len(urls)]
            check = {"oa_id": oa, "phone": body["phone"]}
            found = http.post(f"{other}/v1/shop.Zalo/CheckConsent", json=check, headers=auth)
            assert found.json()["error"] == 2, found.text  # sent, not yet on the phone
    ids = [int(c["id"]) for c in made]
    assert ids == sorted(ids) and len(set(ids)) == 30  # one sequence for all instances
    for url in urls:
        assert listed(url, auth) == {c["id"]: c for c in made}


def test_shops_made_at_once_on_every_instance_are_distinct(urls: list[str]) -> None:
    with ThreadPoolExecutor(6) as pool:
        shops = list(pool.map(lambda n: new_shop(urls[n % 3])[0], range(18)))
    assert len({s["shop_id"] for s in shops}) == 18
    for shop, url in zip(shops[:3], reversed(urls), strict=False):
        auth = {"Authorization": f"Bearer {shop['api_key']}"}
        me = httpx.post(f"{url}/v1/shop.Misc/CurrentAccount", json={}, headers=auth).json()
        assert me["id"] == shop["shop_id"]


def test_requests_to_one_phone_at_once_leave_one_waiting(urls: list[str]) -> None:
    shop, auth = new_shop(urls[1])
    body = consent_body(shop["oa_ids"][0], "0914000000")

    def send(n: int) -> dict[str, Any]:
        url = urls[n % 3]
        result: dict[str, Any] = httpx.post(
            f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=auth, timeout=30
        ).json()
        return result

    with ThreadPoolExecutor(6) as pool:
        made = list(pool.map(send, range(30)))
    waiting = [c for c in made if c["reply_status"] == "S"]
    assert len(waiting) == 1, made  # the others saw it and failed as duplicates
    assert {c["error_code"] for c in made if c not in waiting} == {8}


def test_clock_moves_at_once_all_count_and_all_agree(urls: list[str]) -> None:
    before = httpx.get(f"{urls[0]}/_sandbox/clock").json()["now"]

    def advance(n: int) -> int:
        url = urls[n % 3]
        return httpx.post(f"{url}/_sandbox/clock", json={"advance": "1m"}, timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(advance, range(15))) == {200}
    nows = {httpx.get(f"{url}/_sandbox/clock").json()["now"] for url in urls}
    assert len(nows) == 1
    from mock_server.domain.timefmt import parse_rfc3339

    assert parse_rfc3339(nows.pop()) - parse_rfc3339(before) == 15 * 60_000


def test_events_play_out_once_and_webhooks_are_sent_once_in_order(urls: list[str]) -> None:
    shop, auth = new_shop(urls[2])
    oa = shop["oa_ids"][0]
    phones = [AGREES, "0900000002", *(f"09150000{n:02d}" for n in range(10))]
    with receiving() as hook, httpx.Client(timeout=30) as http:
        target = {"oa_id": oa, "webhook_url": hook.url}
        assert http.post(f"{urls[0]}/v1/shop.Zalo/UpdateShopOA", json=target, headers=auth)
        for phone, url in zip(phones, itertools.cycle(urls)):
            made = http.post(
                f"{url}/v1/shop.Zalo/RequestConsent", json=consent_body(oa, phone), headers=auth
            )
            assert made.status_code == 200, made.text
        http.post(f"{urls[1]}/_sandbox/clock", json={"advance": "2m"})
        # Every instance advances the world and runs a sender; reads on all of them at once.
        with ThreadPoolExecutor(3) as pool:
            checks = pool.map(
                lambda url: http.post(
                    f"{url}/v1/shop.Zalo/CheckConsent",
                    json={"oa_id": oa, "phone": AGREES},
                    headers=auth,
                ).json()["error"],
                urls,
            )
            assert set(checks) == {0}  # approved, seen alike by all
        drained = http.post(f"{urls[2]}/_sandbox/webhooks/drain", json={}).json()
        assert drained["pending"] == 0 and drained["failed"] == 0, drained
        events = list(hook.events)
    keys = [
        (e["event_name"], e["phone"], e.get("request_type") or e.get("user_consent"))
        for e in events
    ]
    assert len(keys) == len(set(keys)) == len(phones) + 2, keys  # 12 SENT, ALLOW, DENY
    for phone, reply in (("84900000001", "ALLOW"), ("84900000002", "DENY")):
        sent = keys.index(("oa_send_consent", phone, "SENT"))
        assert sent < keys.index(("user_reply_consent", phone, reply))  # in order per OA
    deliveries = httpx.get(f"{urls[0]}/_sandbox/webhooks/deliveries?limit=100").json()
    mine = [d for d in deliveries["deliveries"] if d["oa_id"] == oa]
    assert len(mine) == len(phones) + 2
    assert all(d["attempts"] == len(d["log"]) == 1 and d["state"] == "delivered" for d in mine)


def test_a_reset_on_one_instance_is_seen_by_all_at_once(urls: list[str]) -> None:
    _shop, auth = new_shop(urls[0])
    rules = {"rules": [{"phone": "0916000000", "outcome": "no_zalo"}]}
    assert httpx.put(f"{urls[0]}/_sandbox/rules", json=rules).status_code == 200
    assert httpx.post(f"{urls[1]}/_sandbox/reset", json={}).status_code == 200
    for url in urls:
        gone = httpx.post(f"{url}/v1/shop.Misc/CurrentAccount", json={}, headers=auth).json()
        assert gone["code"] == "unauthenticated"
        assert httpx.get(f"{url}/_sandbox/clock").json()["now"] == START
        assert httpx.get(f"{url}/_sandbox/rules").json()["global"] == []
        assert httpx.get(f"{url}/_sandbox/health").json()["consents"] == 0
    moved = httpx.post(f"{urls[2]}/_sandbox/clock", json={"set": "2026-01-01T00:00:01Z"})
    assert moved.status_code == 200, moved.text  # no instance remembers the time before


def send_until_refused(
    url: str, client: int, acknowledged: list[dict[str, Any]], enough: threading.Event
) -> None:
    with httpx.Client(timeout=10) as http:
        for n in range(100_000):
            body = consent_body(DEMO_OA, f"09{client}{n:07d}")
            try:
                answer = http.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=AUTH)
            except httpx.HTTPError:
                return
            if answer.status_code == 200:
                acknowledged.append(answer.json())
                if len(acknowledged) >= 300:
                    enough.set()
            if enough.is_set() and n > 50:
                return


def test_an_instance_killed_9_mid_traffic_loses_nothing_it_acknowledged() -> None:
    acknowledged: list[dict[str, Any]] = []
    enough = threading.Event()
    with fresh_schema() as store, serving_all([args(store)] * 2) as started:
        (victim_url, victim), (survivor, _) = started
        threads = [
            threading.Thread(
                target=send_until_refused, args=(url, n, acknowledged, enough), daemon=True
            )
            for n, url in enumerate([victim_url, victim_url, survivor, survivor])
        ]
        for thread in threads:
            thread.start()
        assert enough.wait(120), "the instances stopped answering before the kill"
        os.kill(victim.pid, signal.SIGKILL)  # its clients are still sending
        for thread in threads:
            thread.join(60)
        assert victim.wait(30) == -signal.SIGKILL
        kept = listed(survivor, AUTH)
        with serving(args(store)) as restarted:  # and a new instance finds the same
            assert listed(restarted, AUTH) == kept
    lost = [c["id"] for c in acknowledged if c["id"] not in kept]
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged consents lost"
    assert [c for c in acknowledged if kept[c["id"]] != c] == []
