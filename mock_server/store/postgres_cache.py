"""What each instance keeps of a PostgreSQL store between statements, and how it stays true:
meta values and shops are cached, and dropped whenever the database's generation (bumped as a
transaction that wrote meta or removed shops commits) moves. The generation is read as each
transaction begins and, between transactions, at most once a millisecond. Meta written inside a
transaction is kept apart (this thread's) until it commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mock_server.domain.model import Consent, Shop
from mock_server.store.postgres_db import Database, Row
from mock_server.store.postgres_outbox import OutboxTables

STALE_NS = 1_000_000  # how long a generation check holds between transactions
NO = object()  # nothing known
NEXT_DUE = "(SELECT MIN(due) FROM events)"


class Local(threading.local):
    # Meta written by this thread's open transaction: not in the shared cache until committed.
    written: dict[str, str | None] | None = None
    reset = False  # this transaction emptied the store: read through, cache nothing
    due: object = NO  # when the next event was due as the transaction began (read once)
    locked: dict[int, Consent] | None = None  # consents read FOR UPDATE with due events


class CachedTables(OutboxTables):
    _db: Database

    def _start_caches(self) -> None:
        self._db.begin_reads = f"generation, {NEXT_DUE}"
        self._db.on_begin = self._began
        self._local = Local()
        self._meta: dict[str, str | None] = {}
        self._shops: dict[tuple[bool, str], Shop] = {}
        self._generation = -1
        self._checked_at = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        outer = not self._db.in_transaction()
        try:
            with self._db.transaction():
                yield
        finally:
            if outer:
                if self._local.written or self._local.reset:
                    self._checked_at = 0  # what this transaction changed: see it next read
                self._local.written, self._local.reset = None, False
                self._local.due, self._local.locked = NO, None

    def _began(self, row: Row) -> None:
        """A transaction began: it read the generation and when the next event is due (which
        the world asks first thing, so it costs no statement of its own)."""
        self._saw(int(row[0]))
        self._checked_at = time.monotonic_ns()
        self._local.due = None if row[1] is None else int(row[1])

    def _saw(self, generation: int) -> None:
        if generation != self._generation:
            self._meta.clear()
            self._shops.clear()
            self._generation = generation

    def _fresh(self) -> None:
        """Make the caches current: between transactions at most once a millisecond; in one,
        by beginning it (which reads the generation)."""
        if self._db.in_transaction():
            self._db.run(lambda conn: None)
            return
        now = time.monotonic_ns()
        if now - self._checked_at < STALE_NS:
            return
        self._saw(self._value("SELECT generation FROM sandbox_generation"))
        self._checked_at = now

    # Meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        self._fresh()
        local = self._local
        if local.written is not None and key in local.written:
            return local.written[key]
        cached = self._meta.get(key, NO)
        if cached is not NO and not local.reset:
            return cached  # type: ignore[return-value]
        row = self._row("SELECT value FROM meta WHERE key = %s", (key,))
        value = None if row is None else str(row[0])
        if not local.reset:
            self._meta[key] = value
        return value

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._exec("DELETE FROM meta WHERE key = %s", (key,), retry=True)
        else:
            self._exec(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
                retry=True,
            )
        self._wrote(key, value)

    def replace_meta(self, key: str, old: str | None, new: str | None) -> bool:
        if old is None and new is None:
            done = int(self._row("SELECT 1 FROM meta WHERE key = %s", (key,)) is None)
        elif old is None:
            done = self._exec(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                (key, new),
            )
        elif new is None:
            done = self._exec("DELETE FROM meta WHERE key = %s AND value = %s", (key, old))
        else:
            done = self._exec(
                "UPDATE meta SET value = %s WHERE key = %s AND value = %s", (new, key, old)
            )
        if done:
            self._wrote(key, new)
        else:  # another instance changed it: read it again from the database
            self._meta.pop(key, None)
            if self._local.written is not None:
                self._local.written.pop(key, None)
        return bool(done)

    def _wrote(self, key: str, value: str | None) -> None:
        self._meta.pop(key, None)
        if self._db.in_transaction():
            if self._local.written is None:
                self._local.written = {}
            self._local.written[key] = value
        else:
            self._checked_at = 0

    def meta_items(self, prefix: str) -> Iterator[tuple[str, str]]:
        rows = self._rows(
            'SELECT key, value FROM meta WHERE starts_with(key, %s) ORDER BY key COLLATE "C"',
            (prefix,),
        )
        return iter([(str(k), str(v)) for k, v in rows])
