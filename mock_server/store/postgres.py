"""PostgreSQL store (psycopg 3): one database shared by any number of sandbox instances.

What makes instances agree: consent, event and outbox ids come from sequences; the clock, rules
and webhook targets are meta rows, changed in transactions (the clock by compare-and-set, so
two instances moving it at once both count); due events are taken under one lock and
`FOR UPDATE SKIP LOCKED`, so each is applied once and in time order; a consent changed by an
event or a forced reply is read `FOR UPDATE`; outbox entries are claimed with leases in single
statements. Meta and shops are cached in each instance, dropped whenever the database's
generation (bumped by triggers when meta changes or shops go) moves: checked when a
transaction begins and, between transactions, at most once a millisecond.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterable, Iterator
from dataclasses import replace

import psycopg

from mock_server.domain import states
from mock_server.domain.errors import AlreadyExists
from mock_server.domain.ids import CONSENT_ID_BASE
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import (
    CHANGING_FIELDS,
    CONSENT_FIELDS,
    Consent,
    ConsentRow,
    Happening,
    OfficialAccount,
    Shop,
    as_row,
    changing_values,
    consent_of,
)
from mock_server.domain.query import ConsentQuery, SortKey
from mock_server.store import PostgresOptions
from mock_server.store.group import nothing_pending
from mock_server.store.postgres_cache import NEXT_DUE, NO, CachedTables
from mock_server.store.postgres_db import Database, Row
from mock_server.store.postgres_schema import TABLES
from mock_server.store.postgres_setup import prepare

_COLUMNS = ", ".join(CONSENT_FIELDS)
_INSERT = (
    f"INSERT INTO consents ({', '.join(CONSENT_FIELDS[1:])}) "
    f"VALUES ({', '.join('%s' for _ in CONSENT_FIELDS[1:])}) RETURNING id"
)
_UPDATE = f"UPDATE consents SET {', '.join(f'{f} = %s' for f in CHANGING_FIELDS)} WHERE id = %s"
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
_OAS = "FILTER (WHERE o.oa_id IS NOT NULL)"
_SHOP = (
    "SELECT s.shop_id, s.api_key, s.shop_key, s.name, "
    f"COALESCE(array_agg(o.oa_id ORDER BY o.position) {_OAS}, ARRAY[]::BIGINT[]), "
    f"COALESCE(array_agg(o.name ORDER BY o.position) {_OAS}, ARRAY[]::TEXT[]) "
    "FROM shops s LEFT JOIN shop_oas o ON o.shop_id = s.shop_id WHERE s.{column} = %s "
    "GROUP BY s.shop_id"
)
_SHOPS_PAGE = (
    "SELECT s.shop_id, s.api_key, s.shop_key, s.name, "
    f"COALESCE(array_agg(o.oa_id ORDER BY o.position) {_OAS}, ARRAY[]::BIGINT[]), "
    f"COALESCE(array_agg(o.name ORDER BY o.position) {_OAS}, ARRAY[]::TEXT[]) "
    "FROM (SELECT * FROM shops WHERE shop_id > %s ORDER BY shop_id LIMIT %s) s "
    "LEFT JOIN shop_oas o ON o.shop_id = s.shop_id GROUP BY s.shop_id, s.api_key, s.shop_key, "
    "s.name ORDER BY s.shop_id"
)
_EVENT = "due, consent_id, kind, value, window_ms"
SHOP_CACHE = 10_000


class PostgresStore(CachedTables):
    kind = "postgresql"

    def __init__(self, url: str, options: PostgresOptions) -> None:
        self._db = Database(url, options)
        try:
            self._sequence = prepare(self._db)
            self._db.open()
        except BaseException:
            self._db.close()
            raise
        self._start_caches()

    def reset(self) -> None:
        with self.transaction():
            self._db.begin_exclusive()
            self._exec(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
            self._local.reset = True
            self._local.written = {}
            self._meta.clear()
            self._shops.clear()

    def close(self) -> None:
        self._db.close()

    def committed(self) -> Awaitable[None]:
        return nothing_pending()  # each transaction commits as it ends: no shared commit here

    # Shops --------------------------------------------------------------------------------

    def create_shop(self, shop: Shop) -> None:
        if shop.api_key == shop.shop_key:
            raise AlreadyExists("api_key and shop_key must differ")
        keys = (shop.api_key, shop.shop_key, shop.api_key, shop.shop_key)
        with self.transaction():
            made = self._exec(
                "INSERT INTO shops (shop_id, api_key, shop_key, name) "
                "SELECT %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM shops "
                "WHERE api_key IN (%s, %s) OR shop_key IN (%s, %s)) ON CONFLICT DO NOTHING",
                (shop.shop_id, shop.api_key, shop.shop_key, shop.name, *keys),
            )
            if not made:
                raise AlreadyExists("shop id or key already in use")
            self._db.run(
                lambda conn: conn.cursor().executemany(
                    "INSERT INTO shop_oas (shop_id, oa_id, position, name) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [(shop.shop_id, oa.oa_id, n, oa.name) for n, oa in enumerate(shop.oas)],
                )
            )

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        self._fresh()
        cached = self._shops.get((partner, key))
        if cached is not None and not self._local.reset:
            return cached
        column = "shop_key" if partner else "api_key"
        row = self._row(_SHOP.format(column=column), (key,))
        if row is None:
            return None
        shop = _shop(row)
        if not self._db.in_transaction():  # one being made may yet be rolled back
            if len(self._shops) >= SHOP_CACHE:
                self._shops.clear()
            self._shops[(partner, key)] = shop
        return shop

    def max_shop_id(self) -> int:
        """The largest shop id. In a transaction, shops made from it take turns (a lock held
        to its end), so instances making shops at once never pick the same next id."""
        if self._db.in_transaction():
            self._value("SELECT 1 FROM pg_advisory_xact_lock(%s)", (self._db.key("shops"),))
        return self._value("SELECT COALESCE(MAX(shop_id), 0) FROM shops")

    def count_shops(self) -> int:
        return self._value("SELECT COUNT(*) FROM shops")

    def get_shop(self, shop_id: int) -> Shop | None:
        found = self.shops_page(shop_id - 1, 1)
        return found[0] if found and found[0].shop_id == shop_id else None

    def shops_page(self, after: int, limit: int) -> list[Shop]:
        return [_shop(row) for row in self._rows(_SHOPS_PAGE, (after, limit))]

    # Consents -----------------------------------------------------------------------------

    def insert_consent(self, consent: Consent) -> Consent:
        new_id = self._value(_INSERT, as_row(consent)[1:], retry=False)
        return replace(consent, id=new_id)

    def insert_many(self, consents: Iterable[Consent]) -> int:
        with self.transaction():
            start = self.max_consent_id() + 1  # locks the table: the ids are ours
            count = self._copy("consents", CONSENT_FIELDS, _numbered(consents, start))
            if count:
                self._value("SELECT setval(%s, %s)", (self._sequence, start + count - 1))
        if count:
            # The planner's statistics, fresh: until autovacuum gets to a table just filled by
            # COPY, a filtered page may be planned as if it were empty (a scan, not the index).
            self._exec("ANALYZE consents")
        return count

    def max_consent_id(self) -> int:
        """The largest id given out. In a transaction, no other consent is made until it ends
        (the table is locked), so a bulk load may number its consents from here."""
        if self._db.in_transaction():
            self._exec("LOCK TABLE consents IN SHARE ROW EXCLUSIVE MODE")
        row = self._row(f"SELECT last_value, is_called FROM {self._sequence}")
        assert row is not None
        return max(int(row[0]) - (0 if row[1] else 1), CONSENT_ID_BASE)

    def get_consent(self, consent_id: int) -> Consent | None:
        # Read to change it: in a transaction the row is locked until it ends, so an event
        # applied by another instance waits and then sees this change (no lost update).
        locked = self._local.locked
        if self._db.in_transaction() and locked is not None and consent_id in locked:
            return replace(locked[consent_id])  # read and locked with its due events
        lock = " FOR UPDATE" if self._db.in_transaction() else ""
        row = self._row(f"SELECT {_COLUMNS} FROM consents WHERE id = %s{lock}", (consent_id,))
        return None if row is None else Consent(*row)

    def has_waiting(self, shop_id: int, oa_id: int, phone_norm: str) -> bool:
        sql = (
            "SELECT EXISTS (SELECT 1 FROM consents WHERE shop_id = %s AND oa_id = %s AND "
            f"phone_norm = %s AND reply_status = '{states.REPLY_WAITING}')"
        )
        params = (shop_id, oa_id, phone_norm)
        if not self._db.in_transaction():
            return bool(self._value(sql, params))
        # Two requests to one phone at once (on two instances) take turns here, so the second
        # sees the first as waiting, as it would on one instance.
        key = self._db.key("phone", shop_id, oa_id, phone_norm)

        def locked(conn: psycopg.Connection[Row]) -> bool:
            with conn.pipeline():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                cursor = conn.execute(sql, params)
            row = cursor.fetchone()
            return row is not None and bool(row[0])

        return self._db.run(locked)

    def newest_request(
        self, shop_id: int, oa_id: int, phone_norm: str, status: str
    ) -> Consent | None:
        return self._consent(
            f"SELECT {_COLUMNS} FROM consents WHERE shop_id = %s AND oa_id = %s AND "
            "phone_norm = %s AND status = %s ORDER BY created_at DESC, id DESC LIMIT 1",
            (shop_id, oa_id, phone_norm, status),
        )

    def longest_agreement(self, shop_id: int, oa_id: int, phone_norm: str) -> Consent | None:
        return self._consent(
            f"SELECT {_COLUMNS} FROM consents WHERE shop_id = %s AND oa_id = %s AND "
            f"phone_norm = %s AND reply_status = '{states.REPLY_AGREED}' "
            "ORDER BY expires_at DESC NULLS LAST LIMIT 1",
            (shop_id, oa_id, phone_norm),
        )

    def _consent(self, sql: str, params: tuple[object, ...]) -> Consent | None:
        row = self._row(sql, params)
        return None if row is None else Consent(*row)

    def update_consent(self, consent: Consent) -> None:
        self._exec(_UPDATE, (*changing_values(consent), consent.id))
        locked = self._local.locked
        if locked is not None and consent.id in locked:
            locked[consent.id] = replace(consent)

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
            where.append(f"({order}, id) {'>' if ascending else '<'} (%s, %s)")
            params.extend(start)
        direction = "ASC" if ascending else "DESC"
        # The limit is written into the statement, not passed: a generic plan of `LIMIT $n`
        # expects a tenth of the table, so past a few thousand consents the server would plan
        # every page afresh (a custom plan each time, ~40 µs of its CPU at 1M stored).
        sql = (
            f"SELECT {_COLUMNS} FROM consents WHERE {' AND '.join(where)} "
            f"ORDER BY {order} {direction}, id {direction} LIMIT {int(count)}"
        )
        return self._rows(sql, tuple(params))

    def count_consents(self) -> int:
        return self._value("SELECT COUNT(*) FROM consents")

    def consents_version(self) -> None:
        return None  # other instances write the same tables, and asking costs a round trip

    # Events -------------------------------------------------------------------------------

    def add_events(self, events: Iterable[Event]) -> None:
        rows = [(e.due, e.consent_id, e.kind, e.value, e.window_ms) for e in events]
        self._local.due = NO
        if len(rows) > 100:
            self._copy("events", ("due", "consent_id", "kind", "value", "window_ms"), rows)
        elif rows:  # one statement, one round trip
            self._exec(
                "INSERT INTO events (due, consent_id, kind, value, window_ms) SELECT * FROM "
                "unnest(%s::BIGINT[], %s::BIGINT[], %s::TEXT[], %s::TEXT[], %s::BIGINT[])",
                tuple(list(column) for column in zip(*rows, strict=True)),
            )

    def next_due(self) -> int | None:
        local = self._local
        if self._db.in_transaction():
            self._fresh()  # begins the transaction, which reads it
            if local.due is not NO:
                due, local.due = local.due, NO
                return due  # type: ignore[return-value]
        # Asked before every read or write: it brings the generation along, for free.
        checked = time.monotonic_ns()
        row = self._row(f"SELECT {NEXT_DUE}, generation FROM sandbox_generation")
        assert row is not None
        if not self._db.in_transaction():
            self._saw(int(row[1]))
            self._checked_at = checked
        return None if row[0] is None else int(row[0])

    def events_of(self, consent_id: int) -> list[Event]:
        rows = self._rows(
            f"SELECT {_EVENT} FROM events WHERE consent_id = %s ORDER BY due, id", (consent_id,)
        )
        return [Event(*row) for row in rows]

    def upcoming_events(self, limit: int) -> list[Event]:
        rows = self._rows(f"SELECT {_EVENT} FROM events ORDER BY due, id LIMIT %s", (limit,))
        return [Event(*row) for row in rows]

    # History ------------------------------------------------------------------------------

    def add_history(self, happenings: Iterable[Happening]) -> None:
        rows = [(h.consent_id, h.at, h.kind, h.value, h.forced) for h in happenings]
        if rows:  # one statement, one round trip
            self._exec(
                "INSERT INTO history (consent_id, at, kind, value, forced) SELECT * FROM "
                "unnest(%s::BIGINT[], %s::BIGINT[], %s::TEXT[], %s::TEXT[], %s::BOOLEAN[])",
                tuple(list(column) for column in zip(*rows, strict=True)),
            )

    def history_of(self, consent_id: int) -> list[Happening]:
        rows = self._rows(
            "SELECT consent_id, at, kind, value, forced FROM history WHERE consent_id = %s "
            "ORDER BY at, seq",
            (consent_id,),
        )
        return [Happening(int(c), int(at), str(k), str(v), bool(f)) for c, at, k, v, f in rows]

    def pop_due_events(self, now: int, limit: int) -> list[Event]:
        """One instance at a time applies due events (the lock is held until the transaction
        ends), so each is applied once and in time order, and a request that finds events due
        waits for the instance applying them rather than reading the world half-moved."""
        key = self._db.key("world")

        def pop(conn: psycopg.Connection[Row]) -> list[Row]:
            with conn.pipeline():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                cursor = conn.execute(
                    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE due <= %s "
                    "ORDER BY due, id LIMIT %s FOR UPDATE SKIP LOCKED) "
                    "RETURNING id, due, consent_id, kind, value, window_ms",
                    (now, limit),
                )
            rows: list[Row] = cursor.fetchall()
            return rows

        with self.transaction():
            self._local.due = NO
            rows = self._db.run(pop)
            self._lock_consents(sorted({int(row[2]) for row in rows}))
        return [Event(*row[1:]) for row in sorted(rows, key=lambda r: (r[1], r[0]))]

    def _lock_consents(self, ids: list[int]) -> None:
        """Read and lock, in one statement and in id order, the consents the popped events
        change: the world applies them one by one with get_consent, which finds them here."""
        if not ids:
            return
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM consents WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,)
        )
        if self._local.locked is None:
            self._local.locked = {}
        self._local.locked.update((int(row[0]), Consent(*row)) for row in rows)


def _shop(row: Row) -> Shop:
    accounts = tuple(OfficialAccount(int(i), str(n)) for i, n in zip(row[4], row[5], strict=True))
    return Shop(int(row[0]), str(row[1]), str(row[2]), accounts, str(row[3]))


def _numbered(consents: Iterable[Consent], start: int) -> Iterator[tuple[object, ...]]:
    for n, consent in enumerate(consents):
        yield (start + n, *as_row(consent)[1:])


def _where(query: ConsentQuery) -> tuple[list[str], list[object]]:
    where: list[str] = ["shop_id = %s"]
    params: list[object] = [query.shop_id]
    for name in _EQUALITY:
        value = getattr(query, name)
        if value is not None:
            where.append(f"{name} = %s")
            params.append(value)
    if query.created_from is not None:
        where.append("created_at >= %s")
        params.append(query.created_from)
    if query.created_to is not None:
        where.append("created_at < %s")
        params.append(query.created_to)
    return where, params
