"""SQLite store (stdlib, WAL): everything survives a restart; pages are served from indexes."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mock_server.domain import states
from mock_server.domain.errors import AlreadyExists
from mock_server.domain.ids import CONSENT_ID_BASE
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import (
    CHANGING_FIELDS,
    CONSENT_FIELDS,
    PENDING,
    Attempt,
    Consent,
    ConsentRow,
    Happening,
    OfficialAccount,
    OutboxEntry,
    Shop,
    as_row,
    changing_values,
    consent_of,
)
from mock_server.domain.ports import GROUP_COMMIT
from mock_server.domain.query import ConsentQuery, SortKey
from mock_server.store import sqlite_plans as plans
from mock_server.store.group import Group, nothing_pending
from mock_server.store.sqlite_schema import AFTER_MIGRATIONS, MIGRATIONS, SCHEMA

_COLUMNS = ", ".join(CONSENT_FIELDS)
_INSERT = (
    f"INSERT INTO consents ({_COLUMNS}) VALUES "
    f"((SELECT COALESCE(MAX(id), {CONSENT_ID_BASE}) + 1 FROM consents), "
    f"{', '.join('?' for _ in CONSENT_FIELDS[1:])})"
)
_UPDATE = f"UPDATE consents SET {', '.join(f'{f} = ?' for f in CHANGING_FIELDS)} WHERE id = ?"
# Filters that are plain equality on a column, in ConsentQuery's names.
_EQUALITY = (
    "oa_id",
    "user_id",
    "phone_norm",
    "call_type",
    "reason_code",
    "status",
    "reply_status",
    "is_charged",
)
SHOP_CACHE = 10_000  # shops kept in memory by key (bounded: a long run may make many)
STALE_NS = 1_000_000  # how long a check that no other connection committed holds
_OUTBOX = "id, shop_id, oa_id, url, payload, state, attempts, next_attempt, consent_id"


class SQLiteStore:
    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        # One connection shared by the event loop and test threads; the lock serialises it.
        self._lock = threading.RLock()
        self._depth = 0
        self._group: Group | None = None  # the tick's shared transaction, while open
        self._shops: dict[tuple[bool, str], Shop] = {}
        # Meta (clock, rules, webhook targets) is read several times a request: cached, and
        # dropped whenever another connection commits (PRAGMA data_version tells).
        self._meta: dict[str, str | None] = {}
        self._data_version: int | None = None
        self._checked_at = 0
        self._undone = 0  # rollbacks: total_changes counts the changes they undid
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints are what fsync under WAL + NORMAL; doing them rarely (the WAL may grow
            # to ~80 MB) halves the cost of a RequestConsent without weakening what a commit keeps.
            self._db.execute("PRAGMA wal_autocheckpoint=20000")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
            self._migrate()
        except sqlite3.Error as exc:
            raise OSError(f"cannot open the SQLite store {path!r}: {exc}") from None

    def _migrate(self) -> None:
        for table, column, definition in MIGRATIONS:
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self._db.executescript(AFTER_MIGRATIONS)
        self._db.executescript(plans.SCHEMA)
        plans.migrate(self._db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            if GROUP_COMMIT.get() and self._on_loop():
                with self._grouped():
                    yield
                return
            if self._group is not None:  # a plain transaction commits what is shared first
                self._group.close()
            self._db.execute("BEGIN IMMEDIATE")
            self._drop_stale_caches(force=True)
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._forget_cached()
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def _grouped(self) -> Iterator[None]:
        """This request's work as a savepoint of the tick's shared transaction."""
        if self._group is None:
            self._db.execute("BEGIN IMMEDIATE")
            self._drop_stale_caches(force=True)
            self._group = Group(self._commit_group)
        self._db.execute("SAVEPOINT unit")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO unit")
            self._db.execute("RELEASE unit")
            self._forget_cached()
            raise
        else:
            self._db.execute("RELEASE unit")
        finally:
            self._depth = 0

    def _commit_group(self) -> None:
        with self._lock:
            self._group = None
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                self._forget_cached()
                raise

    def committed(self) -> Awaitable[None]:
        group = self._group
        return group.done if group is not None else nothing_pending()

    def _on_loop(self) -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def _forget_cached(self) -> None:
        self._meta.clear()  # they may hold values the undone work set
        self._shops.clear()
        self._undone += 1

    def reset(self) -> None:
        with self.transaction():
            self._shops.clear()
            self._meta.clear()
            tables = ("consents", "shop_oas", "shops", "meta", "plans", "history", "outbox")
            for table in (*tables, "attempts"):
                self._db.execute(f"DELETE FROM {table}")

    def create_shop(self, shop: Shop) -> None:
        if shop.api_key == shop.shop_key:
            raise AlreadyExists("api_key and shop_key must differ")
        with self.transaction():
            taken = self._db.execute(
                "SELECT 1 FROM shops WHERE shop_id = ? OR api_key IN (?, ?) OR shop_key IN (?, ?)",
                (shop.shop_id, shop.api_key, shop.shop_key, shop.api_key, shop.shop_key),
            ).fetchone()
            if taken:
                raise AlreadyExists("shop id or key already in use")
            self._db.execute(
                "INSERT INTO shops (shop_id, api_key, shop_key, name) VALUES (?, ?, ?, ?)",
                (shop.shop_id, shop.api_key, shop.shop_key, shop.name),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO shop_oas (shop_id, oa_id, position, name) "
                "VALUES (?, ?, ?, ?)",
                [(shop.shop_id, oa.oa_id, n, oa.name) for n, oa in enumerate(shop.oas)],
            )

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        # Shops never change once made, so a found one is cached (every request authenticates)
        # until another connection commits (a reset may have removed it).
        with self._lock:
            self._drop_stale_caches()
            cached = self._shops.get((partner, key))
        if cached is not None:
            return cached
        column = "shop_key" if partner else "api_key"
        with self._lock:
            row = self._db.execute(
                f"SELECT shop_id, api_key, shop_key, name FROM shops WHERE {column} = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            oas = self._db.execute(
                "SELECT oa_id, name FROM shop_oas WHERE shop_id = ? ORDER BY position", (row[0],)
            ).fetchall()
        accounts = tuple(OfficialAccount(oa_id, name) for oa_id, name in oas)
        shop = Shop(row[0], row[1], row[2], accounts, row[3])
        if len(self._shops) >= SHOP_CACHE:
            self._shops.clear()
        self._shops[(partner, key)] = shop
        return shop

    def max_shop_id(self) -> int:
        return self._scalar("SELECT COALESCE(MAX(shop_id), 0) FROM shops")

    def count_shops(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM shops")

    def get_shop(self, shop_id: int) -> Shop | None:
        found = self.shops_page(shop_id - 1, 1)
        return found[0] if found and found[0].shop_id == shop_id else None

    def shops_page(self, after: int, limit: int) -> list[Shop]:
        with self._lock:
            rows = self._db.execute(
                "SELECT shop_id, api_key, shop_key, name FROM shops WHERE shop_id > ? "
                "ORDER BY shop_id LIMIT ?",
                (after, limit),
            ).fetchall()
            oas: dict[int, list[OfficialAccount]] = {row[0]: [] for row in rows}
            if rows:
                for shop_id, oa_id, name in self._db.execute(
                    "SELECT shop_id, oa_id, name FROM shop_oas WHERE shop_id BETWEEN ? AND ? "
                    "ORDER BY shop_id, position",
                    (rows[0][0], rows[-1][0]),
                ):
                    if shop_id in oas:
                        oas[shop_id].append(OfficialAccount(oa_id, name))
        return [Shop(r[0], r[1], r[2], tuple(oas[r[0]]), r[3]) for r in rows]

    def insert_consent(self, consent: Consent) -> Consent:
        with self._lock:
            cursor = self._db.execute(_INSERT, as_row(consent)[1:])
        consent.id = int(cursor.lastrowid or 0)  # the caller's own fresh draft, numbered
        return consent

    def insert_many(self, consents: Iterable[Consent]) -> int:
        with self.transaction():
            start = self.max_consent_id()
            rows = ((start + n, *as_row(c)[1:]) for n, c in enumerate(consents, 1))
            cursor = self._db.executemany(
                f"INSERT INTO consents ({_COLUMNS}) VALUES "
                f"({', '.join('?' for _ in CONSENT_FIELDS)})",
                rows,
            )
        return cursor.rowcount

    def max_consent_id(self) -> int:
        return self._scalar(f"SELECT COALESCE(MAX(id), {CONSENT_ID_BASE}) FROM consents")

    def get_consent(self, consent_id: int) -> Consent | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM consents WHERE id = ?", (consent_id,)
            ).fetchone()
        return None if row is None else consent_of(row)

    def has_waiting(self, shop_id: int, oa_id: int, phone_norm: str) -> bool:
        # The literal 'S' (not a parameter) lets SQLite use the partial index consents_waiting.
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM consents WHERE shop_id = ? AND oa_id = ? AND phone_norm = ? "
                f"AND reply_status = '{states.REPLY_WAITING}' LIMIT 1",
                (shop_id, oa_id, phone_norm),
            ).fetchone()
        return row is not None

    def newest_request(
        self, shop_id: int, oa_id: int, phone_norm: str, status: str
    ) -> Consent | None:
        return self._one(
            f"SELECT {_COLUMNS} FROM consents WHERE shop_id = ? AND phone_norm = ? AND oa_id = ? "
            "AND status = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (shop_id, phone_norm, oa_id, status),
        )

    def longest_agreement(self, shop_id: int, oa_id: int, phone_norm: str) -> Consent | None:
        # The literal (not a parameter) lets SQLite use the partial index consents_agreed.
        return self._one(
            f"SELECT {_COLUMNS} FROM consents WHERE shop_id = ? AND oa_id = ? AND phone_norm = ? "
            f"AND reply_status = '{states.REPLY_AGREED}' ORDER BY expires_at DESC LIMIT 1",
            (shop_id, oa_id, phone_norm),
        )

    def _one(self, sql: str, params: tuple[object, ...]) -> Consent | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return None if row is None else consent_of(row)

    def update_consent(self, consent: Consent) -> None:
        with self._lock:
            self._db.execute(_UPDATE, (*changing_values(consent), consent.id))

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
        return [consent_of(row) for row in self.scan_rows(query, start, ascending, count)]

    def scan_rows(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[ConsentRow]:
        where, params = _where(query)
        order = query.sort_field
        if start is not None:
            where.append(f"({order}, id) {'>' if ascending else '<'} (?, ?)")
            params.extend(start)
        direction = "ASC" if ascending else "DESC"
        sql = (
            f"SELECT {_COLUMNS} FROM consents WHERE {' AND '.join(where)} "
            f"ORDER BY {order} {direction}, id {direction} LIMIT ?"
        )
        with self._lock:
            rows: list[ConsentRow] = self._db.execute(sql, (*params, count)).fetchall()
        return rows

    def count_consents(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM consents")

    def consents_version(self) -> tuple[int, int, int]:
        """Any table's change: other connections' commits (data_version), this connection's
        writes, committed or not (total_changes), and the rollbacks that undid some of them."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            return int(version), self._db.total_changes, self._undone

    def add_events(self, events: Iterable[Event]) -> None:
        with self._lock:
            plans.add(self._db, events)

    def next_due(self) -> int | None:
        with self._lock:
            return plans.next_due(self._db)

    def pop_due_events(self, now: int, limit: int) -> list[Event]:
        with self.transaction():
            return plans.pop_due(self._db, now, limit)

    def events_of(self, consent_id: int) -> list[Event]:
        with self._lock:
            return plans.of(self._db, consent_id)

    def upcoming_events(self, limit: int) -> list[Event]:
        with self._lock:
            return plans.upcoming(self._db, limit)

    def add_history(self, happenings: Iterable[Happening]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT INTO history (consent_id, at, kind, value, forced) VALUES (?, ?, ?, ?, ?)",
                [(h.consent_id, h.at, h.kind, h.value, int(h.forced)) for h in happenings],
            )

    def history_of(self, consent_id: int) -> list[Happening]:
        with self._lock:
            rows = self._db.execute(
                "SELECT consent_id, at, kind, value, forced FROM history WHERE consent_id = ? "
                "ORDER BY at, rowid",
                (consent_id,),
            ).fetchall()
        return [Happening(c, at, kind, value, bool(forced)) for c, at, kind, value, forced in rows]

    def add_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        with self._lock:
            for entry in entries:
                cursor = self._db.execute(
                    "INSERT INTO outbox (shop_id, oa_id, url, payload, state, attempts, "
                    "next_attempt, consent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.shop_id,
                        entry.oa_id,
                        entry.url,
                        entry.payload,
                        entry.state,
                        entry.attempts,
                        entry.next_attempt,
                        entry.consent_id,
                    ),
                )
                entry.id = int(cursor.lastrowid or 0)

    def pending_outbox(self) -> list[OutboxEntry]:
        return self._outbox("WHERE state = 'pending' ORDER BY id", (), with_log=False)

    def claim_outbox(
        self, owner: str, now: float, lease: float, due_only: bool = True
    ) -> list[OutboxEntry]:
        with self._lock:  # a read first: a quiet outbox takes no write lock
            if (
                self._db.execute("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").fetchone()
                is None
            ):
                return []
        with self.transaction():
            firsts = self._outbox_heads()
            if not firsts:
                return []
            marks = ", ".join("?" for _ in firsts)
            free = "(claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)"
            due = "AND next_attempt <= ?" if due_only else ""
            params: list[object] = [*firsts, owner, now] + ([now] if due_only else [])
            entries = self._outbox(
                f"WHERE id IN ({marks}) AND {free} {due} ORDER BY id", tuple(params), False
            )
            self._db.executemany(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                [(owner, now + lease, e.id) for e in entries],
            )
        return entries

    def _outbox_heads(self) -> list[int]:
        """The oldest pending entry of each OA, one index probe per OA (a loose index scan):
        a backlog of many events costs no more than a few."""
        heads: list[int] = []
        sql = (
            "SELECT shop_id, oa_id, id FROM outbox WHERE state = 'pending' {} "
            "ORDER BY shop_id, oa_id, id LIMIT 1"
        )
        row = self._db.execute(sql.format("")).fetchone()
        while row is not None:
            heads.append(int(row[2]))
            row = self._db.execute(
                sql.format("AND (shop_id, oa_id) > (?, ?)"), (row[0], row[1])
            ).fetchone()
        return heads

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            return {str(state): int(count) for state, count in rows}

    def record_attempt(self, entry: OutboxEntry) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, claimed_by = NULL "
                "WHERE id = ?",
                (entry.state, entry.attempts, entry.next_attempt, entry.id),
            )
            if entry.log:
                last = entry.log[-1]
                self._db.execute(
                    "INSERT INTO attempts (outbox_id, at, status, error, fault) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (entry.id, last.at, last.status, last.error, last.fault),
                )

    def outbox_log(self, limit: int, state: str | None = None) -> list[OutboxEntry]:
        if state is None:
            return list(reversed(self._outbox("ORDER BY id DESC LIMIT ?", (limit,))))
        tail = "WHERE state = ? ORDER BY id DESC LIMIT ?"  # the index outbox_pending
        return list(reversed(self._outbox(tail, (state, limit))))

    def outbox_of(self, consent_id: int) -> list[OutboxEntry]:
        return self._outbox("WHERE consent_id = ? ORDER BY id", (consent_id,))

    def requeue_outbox(self, entry_id: int) -> OutboxEntry | None:
        with self.transaction():
            self._db.execute(
                "UPDATE outbox SET state = ?, attempts = 0, next_attempt = 0, claimed_by = NULL "
                "WHERE id = ?",
                (PENDING, entry_id),
            )
            found = self._outbox("WHERE id = ?", (entry_id,))
        return found[0] if found else None

    def _outbox(
        self, tail: str, params: tuple[object, ...], with_log: bool = True
    ) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_OUTBOX} FROM outbox {tail}", params).fetchall()
            entries = [_outbox_entry(row) for row in rows]
            for entry in entries if with_log else ():
                entry.log = [
                    Attempt(*a)
                    for a in self._db.execute(
                        "SELECT at, status, error, fault FROM attempts WHERE outbox_id = ? "
                        "ORDER BY at, rowid",
                        (entry.id,),
                    )
                ]
        return entries

    def _drop_stale_caches(self, force: bool = False) -> None:
        """Forget cached shops and meta if another connection committed since. Asked when a
        write transaction begins (nobody else commits until it ends), else at most once a
        millisecond (a request reads meta several times)."""
        now = time.monotonic_ns()
        if not force and (self._depth or now - self._checked_at < STALE_NS):
            return
        self._checked_at = now
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._meta.clear()
            self._shops.clear()

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            self._drop_stale_caches()
            if key in self._meta:
                return self._meta[key]
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = None if row is None else str(row[0])
            self._meta[key] = value
        return value

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            self._meta[key] = value
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def replace_meta(self, key: str, old: str | None, new: str | None) -> bool:
        with self.transaction():  # one writer at a time: the read and the write are one
            self._meta.pop(key, None)
            if self.get_meta(key) != old:
                return False
            self.set_meta(key, new)
            return True

    def meta_items(self, prefix: str) -> Iterator[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key",
                (prefix, prefix + "\uffff"),
            ).fetchall()
        return iter([(str(k), str(v)) for k, v in rows])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _scalar(self, sql: str) -> int:
        with self._lock:
            return int(self._db.execute(sql).fetchone()[0])


def _where(query: ConsentQuery) -> tuple[list[str], list[object]]:
    where: list[str] = ["shop_id = ?"]
    params: list[object] = [query.shop_id]
    for name in _EQUALITY:
        value = getattr(query, name)
        if value is not None:
            where.append(f"{name} = ?")
            params.append(value)
    if query.created_from is not None:
        where.append("created_at >= ?")
        params.append(query.created_from)
    if query.created_to is not None:
        where.append("created_at < ?")
        params.append(query.created_to)
    return where, params


def _outbox_entry(row: Any) -> OutboxEntry:
    entry_id, shop_id, oa_id, url, payload, state, attempts, next_attempt, consent_id = row
    return OutboxEntry(
        entry_id, shop_id, oa_id, url, payload, state, attempts, next_attempt, [], consent_id
    )
