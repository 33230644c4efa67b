"""ListRequestConsent's kept answers (http/list_answers.py): a sandbox that keeps them answers
byte for byte what one that keeps none answers, whatever happens between two lists; a repeated
query is answered without a scan; the store's consents_version moves with every change,
rollbacks included; the budget holds; the journal's redacted copy is right for every key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.domain import states
from mock_server.domain.model import Consent, OfficialAccount, Shop
from mock_server.http.redact import Redactions
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SQLiteStore
from tests.conftest import DEMO, DEMO_OA, START
from tests.specs import SPECS, wire_spec

AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
LIST = "/v1/shop.Zalo/ListRequestConsent"
REQUEST = {"oa_id": DEMO_OA, "call_type": "audio", "reason_code": "update_order"}
PHONES = [f"09{n:08d}" for n in range(4)]
REPLY_STATUSES = wire_spec().document["components"]["schemas"]["ReplyStatus"]["enum"]

# What happens between two lists: a request, time passing (customers act), a forced reply.
requests = st.tuples(st.just("request"), st.sampled_from(PHONES))
waits = st.tuples(st.just("advance"), st.sampled_from(["30s", "2m", "10m", "2h"]))
forces = st.tuples(
    st.just("force"), st.integers(0, 30), st.sampled_from(["seen", "agree", "reject"])
)
# The queries every step is followed by (each asked twice: the second is a kept answer).
QUERIES: list[dict[str, Any]] = [
    {},
    {"filter": {"phone": PHONES[0]}},
    {"filter": {"reply_status": REPLY_STATUSES[1]}},
    {"paging": {"limit": 2}},
    {"filter": {"phone": PHONES[1]}, "paging": {"limit": 1, "sort": "-created_at"}},
]
steps = st.lists(st.one_of(requests, waits, forces), min_size=3, max_size=12)


@contextmanager
def sandbox(store: str, list_cache_mb: int) -> Iterator[TestClient]:
    settings = Settings(
        store=store, seed=11, clock_start=START, clock_rate=0, list_cache_mb=list_cache_mb
    )
    with TestClient(create_app(settings, SPECS)) as client:
        yield client


def replay(client: TestClient, step: tuple[Any, ...], made: list[str]) -> bytes:
    """One step on a sandbox: the bytes it answered."""
    kind = step[0]
    if kind == "request":
        body = {**REQUEST, "phone": step[1]}
        response = client.post("/v1/shop.Zalo/RequestConsent", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        made.append(response.json()["id"])
    elif kind == "advance":
        response = client.post("/_sandbox/clock", json={"advance": step[1]})
    else:
        consent_id = made[step[1] % len(made)] if made else "1"
        action = {"consent_id": consent_id, "action": step[2]}
        response = client.post("/_sandbox/force", json=action)
    content: bytes = response.content
    return content


def lists(client: TestClient) -> list[bytes]:
    """Every query's answer, asked twice (the second answered from what was kept), and the
    next page of each by the cursor just given."""
    answers = []
    for query in QUERIES:
        response = client.post(LIST, json=query, headers=AUTH)
        assert response.status_code == 200, response.text
        assert client.post(LIST, json=query, headers=AUTH).content == response.content
        answers.append(response.content)
        after = response.json()["paging"]["next"]
        if after:
            paging = {**query.get("paging", {}), "after": after}
            answers.append(
                client.post(LIST, json={**query, "paging": paging}, headers=AUTH).content
            )
    return answers


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_kept_answers_are_the_answers_of_a_sandbox_keeping_none(
    store: str, steps: list[tuple[Any, ...]], tmp_path: Path
) -> None:
    with ExitStack() as stack:
        where = {}
        for name in ("kept", "none"):  # new files: Hypothesis's examples share tmp_path
            path = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.sqlite3"
            where[name] = "memory" if store == "memory" else f"sqlite:{path}"
        kept = stack.enter_context(sandbox(where["kept"], 8))
        none = stack.enter_context(sandbox(where["none"], 0))
        made_kept: list[str] = []
        made_none: list[str] = []
        for step in steps:
            assert replay(kept, step, made_kept) == replay(none, step, made_none), step
            assert lists(kept) == lists(none), step


def scans(client: TestClient) -> list[int]:
    """Counts the store's list scans from now on (the real store, wrapped)."""
    store = client.app.state.services.store  # type: ignore[attr-defined]
    count = [0]
    scan_rows = store.scan_rows

    def counted(*args: Any) -> Any:
        count[0] += 1
        return scan_rows(*args)

    store.scan_rows = counted
    return count


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_repeated_query_is_answered_without_a_scan_until_a_consent_changes(
    store: str, tmp_path: Path
) -> None:
    where = "memory" if store == "memory" else f"sqlite:{tmp_path / 's.sqlite3'}"
    with sandbox(where, 8) as client:
        body = {"filter": {"phone": PHONES[0]}}
        replay(client, ("request", PHONES[0]), [])
        count = scans(client)
        first = client.post(LIST, json=body, headers=AUTH).content
        assert [client.post(LIST, json=body, headers=AUTH).content for _ in range(5)] == [first] * 5
        assert count[0] == 1
        client.post("/_sandbox/clock", json={"advance": "1s"})  # nothing falls due yet
        assert client.post(LIST, json=body, headers=AUTH).content == first
        # SQLite's version moves with any table's change: here, the clock's.
        assert count[0] == (1 if store == "memory" else 2)
        scanned = count[0]
        assert client.post(LIST, json=body, headers=AUTH).content == first
        assert count[0] == scanned
        replay(client, ("request", PHONES[1]), [])  # another phone: a change all the same
        assert client.post(LIST, json=body, headers=AUTH).content == first
        assert count[0] == scanned + 1
        client.post("/_sandbox/clock", json={"advance": "2h"})  # the customer answers
        assert client.post(LIST, json=body, headers=AUTH).content != first
        assert count[0] == scanned + 2


def test_a_sandbox_keeping_none_scans_every_time(tmp_path: Path) -> None:
    with sandbox(f"sqlite:{tmp_path / 's.sqlite3'}", 0) as client:
        count = scans(client)
        for _ in range(3):
            client.post(LIST, json={}, headers=AUTH)
        assert count[0] == 3


def test_the_kept_answers_stay_within_their_budget_and_go_with_a_change() -> None:
    with sandbox("memory", 1) as client:
        for n in range(60):
            replay(client, ("request", PHONES[n % 2]), [])
        lists = client.app.state.lists  # type: ignore[attr-defined]
        sizes = []
        for limit in range(1, 101):  # 200 queries of about 600 bytes to 36 KB each
            for phone in ("", PHONES[0]):
                body = {"filter": {"phone": phone}, "paging": {"limit": limit}}
                assert client.post(LIST, json=body, headers=AUTH).status_code == 200
                assert 0 < lists.size <= lists.budget == 1024 * 1024
                sizes.append(lists.size)
        assert max(sizes) > lists.budget / 2  # the budget was reached (and held)
        assert len(lists) > 1
        replay(client, ("request", PHONES[0]), [])  # no answer kept can be given again
        answer = client.post(LIST, json={}, headers=AUTH).content
        assert len(lists) == 1  # only the one just read
        assert len(answer) < lists.size < len(answer) + 2000


def consent() -> Consent:
    return Consent(
        id=0,
        shop_id=DEMO.demo_shop_id,
        user_id=1,
        oa_id=1,
        phone="0912345678",
        phone_norm="84912345678",
        call_type="audio",
        reason_code="1",
        status=states.STATUS_SUCCESS,
        reply_status=states.REPLY_WAITING,
        delivery_status="",
        delivery_time=None,
        is_charged=False,
        error_code=0,
        error_message="",
        expires_at=None,
        created_at=1,
        updated_at=1,
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_consents_version_moves_with_every_change(kind: str, tmp_path: Path) -> None:
    store: Any = MemoryStore() if kind == "memory" else SQLiteStore(str(tmp_path / "v.sqlite3"))
    store.create_shop(Shop(DEMO.demo_shop_id, "a", "b", (OfficialAccount(1, "oa"),)))
    seen = [store.consents_version()]

    def moved() -> None:
        now = store.consents_version()
        assert now not in seen
        seen.append(now)

    with store.transaction():
        made = store.insert_consent(consent())
    moved()
    assert store.consents_version() == seen[-1]  # asking changes nothing
    made.reply_status = states.REPLY_AGREED
    store.update_consent(made)
    moved()
    if kind == "sqlite":  # a change undone: a list read inside it is stale after it
        with pytest.raises(RuntimeError), store.transaction():
            made.reply_status = states.REPLY_REJECTED
            store.update_consent(made)
            moved()
            raise RuntimeError("undo")
        moved()
        other = SQLiteStore(store.path)  # another process's commit
        with other.transaction():
            other.update_consent(made)
        moved()
        other.close()
    store.reset()
    moved()
    store.close()


def test_a_remembered_redaction_is_for_the_same_body_and_the_same_secrets() -> None:
    redactions = Redactions(size=2, smallest=10)
    body = b'{"a": "the-key-0123", "api_key": "x"}' + b" " * 20
    masked = redactions(body, (b"the-key-0123",))
    assert masked == b'{"a": "***", "api_key": "***"}' + b" " * 20
    assert redactions(body, (b"the-key-0123",)) is masked  # remembered
    assert redactions(body, (b"0123",)) == b'{"a": "the-key-***", "api_key": "***"}' + b" " * 20
    twin = bytes(bytearray(body))  # equal, but another object: asked again, same result
    assert twin is not body and redactions(twin, (b"the-key-0123",)) == masked
    for n in range(5):  # bounded
        redactions(bytes(20 + n), ())
    assert len(redactions._seen) == 2
    assert redactions(b"short", (b"short",)) == b"***"
