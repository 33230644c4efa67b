"""The PostgreSQL server the tests use, named by one variable, and a fresh schema per test.

`ETELECOM_TEST_POSTGRES_URL` names a server (`make postgres` starts a throwaway one and prints
the line to export; `.ci/run` does the same). Without it, every PostgreSQL test is skipped with
one reason. Tests get a schema of their own on that server (the store URL's `search_path`), so
tests and xdist workers never see each other's data: a new one (`fresh_schema`), or the test
process's own, emptied before each test (`emptied`; cheaper than making the tables again).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

VARIABLE = "ETELECOM_TEST_POSTGRES_URL"
NO_SERVER = f"no PostgreSQL server for the tests: set {VARIABLE} (`make postgres` starts one)"


def server_url() -> str:
    """The server's URL, or skip the test with one clear reason."""
    url = os.environ.get(VARIABLE, "")
    if not url:
        pytest.skip(NO_SERVER)
    return url


def with_schema(url: str, schema: str) -> str:
    """The URL with its connections' search_path set to `schema`."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-c search_path={schema}', safe='')}"


def emptied(url: str) -> str:
    """`url` (a schema of the test process's own) with every table of the sandbox emptied and
    its ids starting again, as if new; a schema without the tables yet is left as it is."""
    import psycopg

    from mock_server.store.postgres_schema import TABLES

    with psycopg.connect(url, autocommit=True) as db:
        found = db.execute("SELECT to_regclass('consents') IS NOT NULL").fetchone()
        if found and found[0]:
            # DELETE, not TRUNCATE: a test leaves a few rows, which DELETE empties in a
            # millisecond where TRUNCATE takes 30 (it makes every table's files anew).
            sequences = db.execute(  # identity columns' too, which information_schema omits
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            ).fetchall()
            with db.transaction():
                for table in TABLES:
                    db.execute(f"DELETE FROM {table}")
                for (sequence,) in sequences:
                    db.execute(f"ALTER SEQUENCE {sequence} RESTART")
    return url


@contextmanager
def fresh_schema(url: str | None = None) -> Iterator[str]:
    """A store URL on a new, empty schema of the test server; the schema is dropped after."""
    import psycopg

    url = url or server_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
