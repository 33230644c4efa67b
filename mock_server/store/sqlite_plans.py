"""A consent's planned events in SQLite: one row per consent (`plans`), due at its next event.

A RequestConsent plans four events (received, seen, reply, deadline). As four rows of an
events table with two indexes they were twelve B-tree inserts, the most a request wrote; as one
row they are two. Events come out in the order (due, consent id, position in the plan), and a
batch never takes an event that a plan it did not read could precede.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import orjson

from mock_server.domain.lifecycle import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    consent_id INTEGER PRIMARY KEY,
    due INTEGER NOT NULL,
    events TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_by_due ON plans (due, consent_id);
"""
BULK = 16  # more plans than this at once: inserted with one statement


def _encode(events: list[Event]) -> bytes:
    return orjson.dumps([[e.due, e.kind, e.value, e.window_ms] for e in events])


def _decode(consent_id: int, raw: str | bytes) -> list[Event]:
    return [
        Event(due, consent_id, kind, value, window)
        for due, kind, value, window in orjson.loads(raw)
    ]


def add(db: sqlite3.Connection, events: Iterable[Event]) -> None:
    planned: dict[int, list[Event]] = {}
    for event in events:
        planned.setdefault(event.consent_id, []).append(event)
    for mine in planned.values():
        mine.sort(key=lambda e: e.due)  # stable: events due at once keep their order
    if len(planned) > BULK:  # a dataset: one statement for the plans that are new
        have = _existing(db, list(planned))
        db.executemany(
            "INSERT INTO plans (consent_id, due, events) VALUES (?, ?, ?)",
            [(c, mine[0].due, _encode(mine)) for c, mine in planned.items() if c not in have],
        )
        planned = {c: mine for c, mine in planned.items() if c in have}
    for consent_id, mine in planned.items():
        cursor = db.execute(
            "INSERT OR IGNORE INTO plans (consent_id, due, events) VALUES (?, ?, ?)",
            (consent_id, mine[0].due, _encode(mine)),
        )
        if cursor.rowcount == 0:  # the consent has a plan already: merge
            merged = sorted([*of(db, consent_id), *mine], key=lambda e: e.due)
            _keep(db, consent_id, merged)


def _existing(db: sqlite3.Connection, consent_ids: list[int]) -> set[int]:
    have: set[int] = set()
    for start in range(0, len(consent_ids), 500):
        chunk = consent_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(f"SELECT consent_id FROM plans WHERE consent_id IN ({marks})", chunk)
        have.update(int(row[0]) for row in rows)
    return have


def next_due(db: sqlite3.Connection) -> int | None:
    row = db.execute("SELECT MIN(due) FROM plans").fetchone()
    return None if row[0] is None else int(row[0])


def pop_due(db: sqlite3.Connection, now: int, limit: int) -> list[Event]:
    """Remove and return the events due by `now` of up to `limit` plans, in order. (Call in
    a transaction.)"""
    rows = db.execute(
        "SELECT consent_id, due, events FROM plans WHERE due <= ? ORDER BY due, consent_id LIMIT ?",
        (now, limit + 1),
    ).fetchall()
    # A plan left unread may hold an event before some of the read ones' later events: stop
    # where it starts.
    bound = (rows[limit][1], rows[limit][0]) if len(rows) > limit else None
    taken: list[tuple[int, int, int, Event]] = []
    for consent_id, _, raw in rows[:limit]:
        events = _decode(consent_id, raw)
        left = []
        for position, event in enumerate(events):
            if event.due <= now and (bound is None or (event.due, consent_id) < bound):
                taken.append((event.due, consent_id, position, event))
            else:
                left.append(event)
        if len(left) != len(events):
            _keep(db, consent_id, left)
    taken.sort(key=lambda t: t[:3])
    return [t[3] for t in taken]


def of(db: sqlite3.Connection, consent_id: int) -> list[Event]:
    row = db.execute("SELECT events FROM plans WHERE consent_id = ?", (consent_id,)).fetchone()
    return [] if row is None else _decode(consent_id, row[0])


def upcoming(db: sqlite3.Connection, limit: int) -> list[Event]:
    """The next `limit` events of all plans (they are among the `limit` plans due first)."""
    rows = db.execute(
        "SELECT consent_id, events FROM plans ORDER BY due, consent_id LIMIT ?", (limit,)
    ).fetchall()
    found = [
        (event.due, consent_id, position, event)
        for consent_id, raw in rows
        for position, event in enumerate(_decode(consent_id, raw))
    ]
    found.sort(key=lambda t: t[:3])
    return [t[3] for t in found[:limit]]


def migrate(db: sqlite3.Connection) -> None:
    """A file made with an events table (one row per event) gets its plans from it."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
        return
    db.execute("BEGIN IMMEDIATE")
    rows = db.execute(
        "SELECT due, consent_id, kind, value, window_ms FROM events ORDER BY consent_id, due, id"
    ).fetchall()
    add(db, (Event(*row) for row in rows))
    db.execute("DROP TABLE events")
    db.execute("COMMIT")


def _keep(db: sqlite3.Connection, consent_id: int, events: list[Event]) -> None:
    if events:
        db.execute(
            "UPDATE plans SET due = ?, events = ? WHERE consent_id = ?",
            (events[0].due, _encode(events), consent_id),
        )
    else:
        db.execute("DELETE FROM plans WHERE consent_id = ?", (consent_id,))
