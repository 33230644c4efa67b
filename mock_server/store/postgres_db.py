"""Connections to PostgreSQL for the store: a psycopg pool, re-entrant transactions, and every
driver failure that means "the database is not there" turned into the domain's `Unavailable`.

A call outside a transaction checks a connection out of the pool for that one call; a
transaction keeps one connection from its first statement to COMMIT (the services call the store
from the event loop, so each holds it briefly). Transactions run at READ COMMITTED and take a
shared "gate" lock as they begin; a reset takes it exclusively, so it waits for transactions in
flight and the next ones wait for it: every instance sees the old world or the new, never a
mix, and never deadlocks on a reset's table locks.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mock_server.domain.errors import Conflict, DomainError, Unavailable
from mock_server.store import PostgresOptions
from mock_server.store.postgres_url import mask, scrub

T = TypeVar("T")
Row = tuple[Any, ...]
log = logging.getLogger("etelecom_sandbox.store")
RECONNECT_SECONDS = 5.0


def _commit_without_flush(conn: psycopg.Connection[Row]) -> None:
    conn.execute("SET synchronous_commit = off")


class _Transaction(threading.local):
    depth = 0
    conn: psycopg.Connection[Row] | None = None


class _Scrub(logging.Filter):
    """Keeps the store URL's password out of the driver's own log lines."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.url)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class Database:
    def __init__(self, url: str, options: PostgresOptions) -> None:
        timeout = options.timeout
        self.url = url
        self.shown = mask(url)
        self._scrub = _Scrub(url)
        for name in ("psycopg", "psycopg.pool"):
            logging.getLogger(name).addFilter(self._scrub)
        self._tx = _Transaction()
        # What a transaction's first statement reads besides taking the gate, and who is told.
        self.begin_reads = "generation"
        self.on_begin: Callable[[Row], None] = lambda row: None
        self.namespace = ""  # the schema: locks of sandboxes in other schemas never meet
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, options.pool_size),
            open=False,
            timeout=timeout,
            kwargs={"autocommit": True},
            configure=None if options.synchronous_commit else _commit_without_flush,
            name="etelecom-sandbox",
            # A lost database: retry a few seconds, then give up until a request asks again
            # (each asks afresh, without the backoff a long outage would have grown).
            reconnect_timeout=RECONNECT_SECONDS,
        )
        self.timeout = timeout

    def open(self) -> None:
        """Start the pool (connections are made in the background; `direct` checked first
        that the database answers)."""
        self.pool.open(wait=False)

    @contextmanager
    def direct(self) -> Iterator[psycopg.Connection[Row]]:
        """One connection outside the pool, for start-up: OSError, in one line and with the
        driver's own reason (a refused password, no server), when it cannot be had."""
        try:
            conn = psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(2, round(self.timeout))
            )
        except psycopg.Error as exc:
            raise OSError(f"cannot reach {self.shown}: {self.describe(exc)}") from None
        with conn:
            yield conn

    def key(self, *parts: object) -> int:
        """An advisory lock key (int64) for `parts` in this database and schema."""
        text = ":".join(map(str, (self.namespace, *parts)))
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def describe(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return scrub(text, self.url)

    def domain_error(self, exc: BaseException) -> DomainError:
        """The domain error for a driver error: a transaction the database rolled back to
        break a deadlock is `Conflict` (Twirp `aborted`: try again); anything else means the
        database cannot be reached (`Unavailable`)."""
        if isinstance(exc, psycopg.errors.TransactionRollback):
            return Conflict(f"the store's database aborted the request: {self.describe(exc)}")
        return Unavailable(f"the store's database cannot be reached: {self.describe(exc)}")

    # Statements ---------------------------------------------------------------------------

    def run(self, work: Callable[[psycopg.Connection[Row]], T], retry: bool = True) -> T:
        """`work` on the transaction's connection, or on one checked out for this call. Outside
        a transaction, a call that failed on a connection the database dropped is tried once
        more on a fresh one (after a restart every pooled connection is dead), if `retry`:
        reads, and changes that may run twice."""
        tx = self._tx
        if tx.depth:
            conn = tx.conn or self._begin(exclusive=False)
            try:
                return work(conn)
            except psycopg.OperationalError as exc:
                raise self.domain_error(exc) from None
        for attempt in (1, 2):
            try:
                with self.pool.connection() as conn:
                    return work(conn)
            except PoolTimeout as exc:
                raise self.domain_error(exc) from None
            except psycopg.OperationalError as exc:
                if attempt == 2 or not retry:
                    raise self.domain_error(exc) from None
                self._drop_dead()
        raise AssertionError("unreachable")

    def _drop_dead(self) -> None:
        with suppress(psycopg.Error, PoolTimeout):
            self.pool.check()

    # Transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        tx = self._tx
        if tx.depth:
            tx.depth += 1
            try:
                yield
            finally:
                tx.depth -= 1
            return
        tx.depth = 1
        try:
            yield
        except BaseException:
            self._end(commit=False)
            raise
        else:
            self._end(commit=True)
        finally:
            tx.depth = 0

    def in_transaction(self) -> bool:
        return bool(self._tx.depth)

    def begin_exclusive(self) -> None:
        """Begin the current transaction holding the gate alone (a reset), unless it has begun."""
        if self._tx.conn is None:
            self._begin(exclusive=True)

    def _begin(self, exclusive: bool) -> psycopg.Connection[Row]:
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        begin = (
            f"BEGIN; SELECT {lock}({self.key('gate')}), {self.begin_reads} FROM sandbox_generation"
        )
        for attempt in (1, 2):
            try:
                conn = self.pool.getconn()
            except PoolTimeout as exc:
                raise self.domain_error(exc) from None
            try:
                cursor = conn.execute(begin)
                cursor.nextset()
                row = cursor.fetchone()
            except psycopg.OperationalError as exc:  # nothing done yet: safe to try again
                self.pool.putconn(conn)
                if attempt == 2:
                    raise self.domain_error(exc) from None
                self._drop_dead()
                continue
            self._tx.conn = conn
            assert row is not None
            self.on_begin(row[1:])
            return conn
        raise AssertionError("unreachable")

    def _end(self, commit: bool) -> None:
        conn, self._tx.conn = self._tx.conn, None
        if conn is None:
            return
        try:
            if commit:
                try:
                    conn.execute("COMMIT")
                except psycopg.OperationalError as exc:
                    raise Unavailable(
                        "the store's database was lost while committing (the change may or "
                        f"may not have been kept): {self.describe(exc)}"
                    ) from None
            else:
                with suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
        finally:
            self.pool.putconn(conn)

    def close(self) -> None:
        self.pool.close()
        for name in ("psycopg", "psycopg.pool"):
            logging.getLogger(name).removeFilter(self._scrub)


class Queries:
    """Statements on the store's database, each on the transaction's connection or its own."""

    _db: Database

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[Row]:
        def work(conn: psycopg.Connection[Row]) -> list[Row]:
            return conn.execute(sql, params).fetchall()

        return self._db.run(work)

    def _row(self, sql: str, params: tuple[object, ...] = ()) -> Row | None:
        def work(conn: psycopg.Connection[Row]) -> Row | None:
            return conn.execute(sql, params).fetchone()

        return self._db.run(work)

    def _value(self, sql: str, params: tuple[object, ...] = (), retry: bool = True) -> int:
        def work(conn: psycopg.Connection[Row]) -> int:
            row = conn.execute(sql, params).fetchone()
            assert row is not None
            return int(row[0])

        return self._db.run(work, retry)

    def _exec(self, sql: str, params: tuple[object, ...] = (), retry: bool = False) -> int:
        """A change; how many rows it touched. `retry` for a change that may run twice."""

        def work(conn: psycopg.Connection[Row]) -> int:
            return conn.execute(sql, params).rowcount

        return self._db.run(work, retry)

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        def work(conn: psycopg.Connection[Row]) -> int:
            count = 0
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with conn.cursor().copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count

        return self._db.run(work, retry=False)
