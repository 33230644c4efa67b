"""Bring a database to the schema this sandbox knows, once, whoever starts first."""

from __future__ import annotations

import psycopg

from mock_server.store.postgres_db import Database, Row
from mock_server.store.postgres_schema import MIGRATIONS, VERSION, VERSION_TABLE


def prepare(db: Database) -> str:
    """Apply the migrations the database lacks (instances starting at once take turns) and
    return the consent id sequence's name. OSError, in one line, when the schema is newer than
    this sandbox or the database refuses."""
    try:
        with db.direct() as conn:
            schema = conn.execute("SELECT current_schema()").fetchone()
            if schema is None or schema[0] is None:
                raise OSError(f"{db.shown}: no schema to create tables in (see search_path)")
            db.namespace = str(schema[0])
            with conn.transaction():
                _migrate(conn, db)
            row = conn.execute("SELECT pg_get_serial_sequence('consents', 'id')").fetchone()
    except psycopg.Error as exc:
        raise OSError(f"cannot use {db.shown}: {db.describe(exc)}") from None
    assert row is not None
    return str(row[0])


def _migrate(conn: psycopg.Connection[Row], db: Database) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (db.key("migrate"),))
    found = conn.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()
    if found is None or found[0] is None:
        conn.execute(f"CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL)")
        conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES (0)")
    row = conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
    version = int(row[0]) if row else 0
    if version > VERSION:
        raise OSError(
            f"{db.shown} (schema {db.namespace}) holds a sandbox store of version {version}, "
            f"newer than this sandbox's {VERSION}: upgrade the sandbox, or use another "
            "database or schema"
        )
    for number in range(version, VERSION):
        conn.execute(MIGRATIONS[number])
        conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (number + 1,))
