"""What the inspector reads from a store, on both stores: a consent's pending events, history
and webhook entries, the events due first, shops by id, and a webhook event queued again. The
SQLite store reads them from indexes, and an older file gains the outbox's consent column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Attempt, Happening, OfficialAccount, OutboxEntry, Shop
from mock_server.domain.ports import Store
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SQLiteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return MemoryStore()
    return SQLiteStore(str(tmp_path / "s.sqlite3"))


def test_events_of_a_consent_and_the_next_due(store: Store) -> None:
    events = [
        Event(due, consent, kind)
        for due, consent, kind in (
            (50, 1, "deadline"),
            (10, 1, "received"),
            (30, 2, "seen"),
            (20, 2, "received"),
            (40, 3, "received"),
            (5, 3, "seen"),
        )
    ]
    store.add_events(events)
    assert [e.due for e in store.events_of(1)] == [10, 50]
    assert [e.due for e in store.upcoming_events(4)] == [5, 10, 20, 30]
    assert [e.due for e in store.upcoming_events(100)] == [5, 10, 20, 30, 40, 50]
    store.pop_due_events(20, 10)
    assert [e.due for e in store.events_of(1)] == [50]
    assert store.events_of(3) == [Event(40, 3, "received")]
    assert [e.due for e in store.upcoming_events(2)] == [30, 40]


def test_history_and_outbox_of_a_consent(store: Store) -> None:
    store.add_history([Happening(7, 200, "seen"), Happening(7, 100, "received", forced=True)])
    store.add_history([Happening(8, 150, "reply", "P")])
    assert [(h.at, h.kind, h.forced) for h in store.history_of(7)] == [
        (100, "received", True),
        (200, "seen", False),
    ]
    store.add_outbox(
        [
            OutboxEntry(0, 1, 2, "http://x", "{}", consent_id=7),
            OutboxEntry(0, 1, 2, "http://x", "{}", consent_id=8),
            OutboxEntry(0, 1, 2, "http://x", "{}", consent_id=7),
        ]
    )
    mine = store.outbox_of(7)
    assert [e.consent_id for e in mine] == [7, 7] and mine[0].id < mine[1].id
    entry = mine[0]
    entry.state, entry.attempts = "failed", 5
    entry.log.append(Attempt(1.0, 500, "HTTP 500"))
    store.record_attempt(entry)
    assert [e.id for e in store.outbox_log(10, "failed")] == [entry.id]
    again = store.requeue_outbox(entry.id)
    assert again is not None and (again.state, again.attempts) == ("pending", 0)
    assert again.log == [Attempt(1.0, 500, "HTTP 500")]  # its past attempts are kept
    assert store.outbox_log(10, "failed") == []
    assert store.requeue_outbox(999) is None


def test_shops_by_id(store: Store) -> None:
    for shop_id in (30, 10, 20):
        store.create_shop(
            Shop(
                shop_id,
                f"{shop_id}:k",
                f"shop{shop_id}:k",
                (OfficialAccount(shop_id + 1, "a"), OfficialAccount(shop_id + 2, "b")),
            )
        )
    assert [s.shop_id for s in store.shops_page(0, 2)] == [10, 20]
    assert [s.shop_id for s in store.shops_page(20, 5)] == [30]
    assert store.get_shop(20) == store.shop_by_key("20:k", partner=False)
    assert store.get_shop(20) is not None and store.get_shop(20).oa_ids == (21, 22)  # type: ignore[union-attr]
    assert store.get_shop(25) is None


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        ("SELECT * FROM plans WHERE consent_id = 1", "INTEGER PRIMARY KEY"),
        ("SELECT * FROM history WHERE consent_id = 1 ORDER BY at", "INDEX history_by_consent"),
        ("SELECT * FROM outbox WHERE consent_id = 1 ORDER BY id", "INDEX outbox_by_consent"),
        (
            "SELECT * FROM outbox WHERE state = 'failed' ORDER BY id DESC LIMIT 9",
            "INDEX outbox_pending",
        ),
    ],
)
def test_inspection_reads_use_indexes(tmp_path: Path, sql: str, index: str) -> None:
    store = SQLiteStore(str(tmp_path / "plan.sqlite3"))
    plan = " ".join(str(row[-1]) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert index in plan and "TEMP B-TREE" not in plan, plan
    store.close()


def test_an_older_outbox_gains_its_consent_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, shop_id INTEGER NOT NULL, "
            "oa_id INTEGER NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL, "
            "state TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt REAL NOT NULL);"
            "INSERT INTO outbox VALUES (1, 1, 2, 'http://x', '{}', 'delivered', 1, 0);"
        )
    store = SQLiteStore(str(path))
    (old,) = store.outbox_log(10)
    assert (old.id, old.consent_id, old.state) == (1, 0, "delivered")
    store.add_outbox([OutboxEntry(0, 1, 2, "http://x", "{}", consent_id=5)])
    assert [e.id for e in store.outbox_of(5)] == [2]
    store.close()
    SQLiteStore(str(path)).close()  # a second open migrates nothing twice
