"""SQLite store (stdlib, WAL): consents survive a restart; pages are served from indexes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import replace

from mock_server.domain.ids import CONSENT_ID_BASE
from mock_server.domain.model import CONSENT_FIELDS, Consent, Shop, as_row
from mock_server.domain.query import ConsentQuery, SortKey
from mock_server.store.base import Conflict

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shops (
    shop_id INTEGER PRIMARY KEY,
    api_key TEXT NOT NULL UNIQUE,
    shop_key TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS shop_oas (
    shop_id INTEGER NOT NULL,
    oa_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (shop_id, oa_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS consents (
    {", ".join(f + (" INTEGER PRIMARY KEY" if f == "id" else "") for f in CONSENT_FIELDS)}
);
CREATE INDEX IF NOT EXISTS consents_by_created ON consents (shop_id, created_at, id);
CREATE INDEX IF NOT EXISTS consents_by_updated ON consents (shop_id, updated_at, id);
CREATE INDEX IF NOT EXISTS consents_by_phone ON consents (shop_id, phone_norm, created_at, id);
"""

_COLUMNS = ", ".join(CONSENT_FIELDS)
_INSERT = (
    f"INSERT INTO consents ({_COLUMNS}) VALUES "
    f"((SELECT COALESCE(MAX(id), {CONSENT_ID_BASE}) + 1 FROM consents), "
    f"{', '.join('?' for _ in CONSENT_FIELDS[1:])})"
)
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


class SQLiteStore:
    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        # One connection shared by the event loop and test threads; the lock serialises it.
        self._lock = threading.Lock()
        self._shops: dict[tuple[bool, str], Shop] = {}
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise OSError(f"cannot open the SQLite store {path!r}: {exc}") from None

    def reset(self) -> None:
        with self._lock:
            self._shops.clear()
            self._db.executescript(
                "BEGIN; DELETE FROM consents; DELETE FROM shop_oas; DELETE FROM shops; "
                "DELETE FROM meta; COMMIT;"
            )

    def create_shop(self, shop: Shop) -> None:
        with self._lock:
            if shop.api_key == shop.shop_key:
                raise Conflict("api_key and shop_key must differ")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                taken = self._db.execute(
                    "SELECT 1 FROM shops WHERE shop_id = ? OR api_key IN (?, ?) "
                    "OR shop_key IN (?, ?)",
                    (shop.shop_id, shop.api_key, shop.shop_key, shop.api_key, shop.shop_key),
                ).fetchone()
                if taken:
                    raise Conflict("shop id or key already in use")
                self._db.execute(
                    "INSERT INTO shops VALUES (?, ?, ?)",
                    (shop.shop_id, shop.api_key, shop.shop_key),
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO shop_oas VALUES (?, ?, ?)",
                    [(shop.shop_id, oa, n) for n, oa in enumerate(shop.oa_ids)],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        # Shops never change once made, so a found one is cached (every request authenticates).
        cached = self._shops.get((partner, key))
        if cached is not None:
            return cached
        column = "shop_key" if partner else "api_key"
        with self._lock:
            row = self._db.execute(
                f"SELECT shop_id, api_key, shop_key FROM shops WHERE {column} = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            oas = self._db.execute(
                "SELECT oa_id FROM shop_oas WHERE shop_id = ? ORDER BY position", (row[0],)
            ).fetchall()
        shop = Shop(row[0], row[1], row[2], tuple(oa for (oa,) in oas))
        self._shops[(partner, key)] = shop
        return shop

    def max_shop_id(self) -> int:
        return self._scalar("SELECT COALESCE(MAX(shop_id), 0) FROM shops")

    def count_shops(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM shops")

    def insert_consent(self, consent: Consent) -> Consent:
        with self._lock:
            cursor = self._db.execute(_INSERT, as_row(consent)[1:])
            return replace(consent, id=int(cursor.lastrowid or 0))

    def insert_many(self, consents: Iterable[Consent]) -> int:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                start = self._db.execute(
                    f"SELECT COALESCE(MAX(id), {CONSENT_ID_BASE}) FROM consents"
                ).fetchone()[0]
                rows = ((start + n, *as_row(c)[1:]) for n, c in enumerate(consents, 1))
                cursor = self._db.executemany(
                    f"INSERT INTO consents ({_COLUMNS}) VALUES "
                    f"({', '.join('?' for _ in CONSENT_FIELDS)})",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return cursor.rowcount

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
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
            rows = self._db.execute(sql, (*params, count)).fetchall()
        return [_consent(row) for row in rows]

    def count_consents(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM consents")

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

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


def _consent(row: tuple[object, ...]) -> Consent:
    consent = Consent(*row)  # type: ignore[arg-type]
    consent.is_charged = bool(consent.is_charged)
    return consent
