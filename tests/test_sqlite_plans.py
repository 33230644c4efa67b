"""SQLite keeps a consent's planned events as one row; they still come out in time order across
consents, in batches that never skip ahead of a plan they did not read, and an older file's
events table becomes plans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.lifecycle import Event
from mock_server.store import sqlite_plans as plans

KINDS = ("received", "seen", "reply", "deadline")


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(plans.SCHEMA)
    return db


def order(event: Event) -> tuple[int, int]:
    return (event.due, event.consent_id)


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.lists(st.lists(st.integers(0, 50), min_size=1, max_size=4), min_size=1, max_size=12),
    st.integers(1, 5),
    st.integers(0, 60),
)
def test_events_come_out_in_order_whatever_the_batch(
    dues: list[list[int]], batch: int, now: int
) -> None:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(plans.SCHEMA)
    added = [
        Event(due, consent, KINDS[n % 4])
        for consent, mine in enumerate(dues, 1)
        for n, due in enumerate(sorted(mine))
    ]
    plans.add(db, added)
    popped: list[Event] = []
    while (first := plans.next_due(db)) is not None and first <= now:
        got = plans.pop_due(db, now, batch)
        assert got, "a batch always takes the earliest event"
        popped += got
    due = sorted((e for e in added if e.due <= now), key=order)
    assert [order(e) for e in popped] == [order(e) for e in due]
    left = [e for c in range(1, len(dues) + 1) for e in plans.of(db, c)]
    assert sorted(map(order, left)) == sorted(order(e) for e in added if e.due > now)


def test_an_older_events_table_becomes_plans(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, due INTEGER, consent_id INTEGER, "
            "kind TEXT, value TEXT, window_ms INTEGER);"
            "INSERT INTO events VALUES (1, 30, 7, 'deadline', '', 0),"
            " (2, 10, 7, 'received', '', 0), (3, 20, 8, 'reply', 'P', 99);"
        )
    db = connect(path)
    plans.migrate(db)
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
    assert [(e.due, e.kind) for e in plans.of(db, 7)] == [(10, "received"), (30, "deadline")]
    assert plans.pop_due(db, 25, 10) == [Event(10, 7, "received"), Event(20, 8, "reply", "P", 99)]
    assert plans.upcoming(db, 5) == [Event(30, 7, "deadline")]
