"""`serve --workers 2` on one SQLite file and on one PostgreSQL database: two real worker
processes agree on the clock, resets, shop creation, rules and webhook delivery (each event sent
by one worker); reads of a quiet world take no write lock. The memory store refuses workers with
one clear line."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from contract_tests.receiver import receiving
from tests.conftest import DEMO, DEMO_OA, START
from tests.postgres import fresh_schema
from tests.processes import invoke, serving
from tests.test_lifecycle import AGREES

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The store setting the workers share: a SQLite file, or a schema of the test server."""
    if request.param == "postgresql":
        with fresh_schema() as url:
            yield url
    else:
        yield f"sqlite:{tmp_path_factory.mktemp('workers') / 'shared.sqlite3'}"


@pytest.fixture(scope="module")
def url(store: str) -> Iterator[str]:
    args = ["--workers", "2", "--store", store, "--clock-start", START, "--clock-rate", "0"]
    with serving(args) as root:
        yield root


def fresh() -> httpx.Client:
    """A client that opens a new connection for every request, so both workers answer."""
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=30)


def by_worker(url: str, method: str, path: str, **kwargs: Any) -> list[Any]:
    """The same request, each on a new connection: 40 answers, from both workers (the kernel
    hands connections to whichever worker accepts; test_two_workers_answer shows both do)."""
    with fresh() as http:
        return [http.request(method, f"{url}{path}", **kwargs).json() for _ in range(40)]


def test_two_workers_answer(url: str) -> None:
    with fresh() as http:
        pids = {http.get(f"{url}/_sandbox/health").json()["worker"] for _ in range(100)}
    assert len(pids) == 2


def test_a_clock_move_is_seen_by_both_workers(url: str) -> None:
    moved = httpx.post(f"{url}/_sandbox/clock", json={"advance": "1h"}).json()["now"]
    assert {a["now"] for a in by_worker(url, "GET", "/_sandbox/clock")} == {moved}


def test_shops_made_at_once_get_distinct_ids_and_work_everywhere(url: str) -> None:
    with fresh() as http:
        shops = [http.post(f"{url}/_sandbox/shops", json={}).json() for _ in range(20)]
    assert len({s["shop_id"] for s in shops}) == 20
    for shop in shops[:3]:
        auth = {"Authorization": f"Bearer {shop['api_key']}"}
        answers = by_worker(url, "POST", "/v1/shop.Misc/CurrentAccount", json={}, headers=auth)
        assert {a["id"] for a in answers} == {shop["shop_id"]}


def test_rules_set_on_one_worker_decide_on_the_other(url: str) -> None:
    shop = httpx.post(f"{url}/_sandbox/shops", json={}).json()
    rules = {"shop_id": shop["shop_id"], "rules": [{"phone": "0911111111", "outcome": "no_zalo"}]}
    assert httpx.put(f"{url}/_sandbox/rules", json=rules).status_code == 200
    body = {
        "oa_id": shop["oa_ids"][0],
        "phone": "0911111111",
        "call_type": "audio",
        "reason_code": "update_order",
    }
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    with fresh() as http:
        made = [
            http.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=auth).json()
            for _ in range(10)
        ]
    assert {m["error_code"] for m in made} == {-213}


@contextmanager
def write_lock_held(store: str) -> Iterator[None]:
    """Another connection holds the store's write lock: SQLite's, or on PostgreSQL a lock on
    the events table that every write (a consent's events) needs and no read does."""
    if store.startswith("sqlite:"):
        blocker = sqlite3.connect(store.removeprefix("sqlite:"), isolation_level=None, timeout=1)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    import psycopg

    with psycopg.connect(store) as pg:  # a transaction, rolled back on the way out
        pg.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        yield
        pg.rollback()


def test_reads_of_a_quiet_world_take_no_write_lock(url: str, store: str) -> None:
    """Another connection holds the write lock: listing and checking still answer."""
    with write_lock_held(store), fresh() as http:
        for _ in range(6):
            listed = http.post(
                f"{url}/v1/shop.Zalo/ListRequestConsent", json={}, headers=AUTH, timeout=3
            )
            assert listed.status_code == 200, listed.text
            checked = http.post(
                f"{url}/v1/shop.Zalo/CheckConsent",
                json={"oa_id": DEMO_OA, "phone": "0912345678"},
                headers=AUTH,
                timeout=3,
            )
            assert checked.status_code == 200, checked.text


def test_each_webhook_event_is_sent_once_by_one_worker(url: str) -> None:
    shop = httpx.post(f"{url}/_sandbox/shops", json={}).json()
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    oa = shop["oa_ids"][0]
    with receiving() as hook, fresh() as http:
        target = {"oa_id": oa, "webhook_url": hook.url}
        assert http.post(f"{url}/v1/shop.Zalo/UpdateShopOA", json=target, headers=auth).is_success
        phones = [AGREES] + [f"09123450{n:02d}" for n in range(9)]
        for phone in phones:
            body = {
                "oa_id": oa,
                "phone": phone,
                "call_type": "audio",
                "reason_code": "update_order",
            }
            assert http.post(
                f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=auth
            ).is_success
        http.post(f"{url}/_sandbox/clock", json={"advance": "2m"})
        # Both workers' senders run; drain waits for whatever the other one holds.
        drained = http.post(f"{url}/_sandbox/webhooks/drain", json={}).json()
        assert drained["pending"] == 0, drained
        events = [
            (e["event_name"], e["phone"], e.get("request_type") or e.get("user_consent"))
            for e in hook.events
        ]
    assert len(events) == len(set(events)) == len(phones) + 1  # ten SENT, one ALLOW
    assert ("user_reply_consent", "84900000001", "ALLOW") in events


def test_a_reset_is_seen_by_both_workers(url: str) -> None:
    shop = httpx.post(f"{url}/_sandbox/shops", json={}).json()
    assert httpx.post(f"{url}/_sandbox/reset", json={}).status_code == 200
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    answers = by_worker(url, "POST", "/v1/shop.Misc/CurrentAccount", json={}, headers=auth)
    assert {a["code"] for a in answers} == {"unauthenticated"}
    assert {c["now"] for c in by_worker(url, "GET", "/_sandbox/clock")} == {START}
    moved = httpx.post(f"{url}/_sandbox/clock", json={"set": "2026-01-01T00:00:01Z"})
    assert moved.status_code == 200, moved.text  # no worker remembers the time before the reset


def test_a_list_kept_by_each_worker_shows_a_consent_made_on_either(url: str) -> None:
    """A worker keeps its list answers (http/list_answers.py) only while nothing stored changes,
    another worker's commits included."""
    phone = "0987654321"
    query = {"filter": {"phone": phone}}
    path = "/v1/shop.Zalo/ListRequestConsent"
    for made in range(1, 4):
        body = {
            "oa_id": DEMO_OA,
            "phone": phone,
            "call_type": "audio",
            "reason_code": "update_order",
        }
        answer = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=AUTH)
        assert answer.status_code == 200, answer.text
        pages = by_worker(url, "POST", path, json=query, headers=AUTH)  # kept by both
        assert {len(page["consents"]) for page in pages} == {made}


def test_the_memory_store_refuses_workers() -> None:
    result = invoke(["serve", "--store", "memory", "--workers", "2", "--port", "0"])
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "needs a store the workers share" in result.stderr
