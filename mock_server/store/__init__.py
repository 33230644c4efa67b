"""Storage adapters behind the domain's ports: `open_store(kind, path)` picks the backend."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from mock_server.domain.ports import Store

KINDS = ("memory", "sqlite", "postgresql")
DRIVER = ("psycopg", "psycopg_pool")  # the [postgresql] extra


@dataclass(frozen=True)
class PostgresOptions:
    pool_size: int = 4  # connections at most, per process
    timeout: float = 2.0  # seconds a store call waits for a connection
    synchronous_commit: bool = False  # wait for each commit's flush to disk


def open_store(kind: str, path: str = "", postgres: PostgresOptions | None = None) -> Store:
    """A store of `kind`: "memory", "sqlite" with a file path, or "postgresql" with a URL.
    ValueError for an unknown kind or a missing driver, OSError for a store that cannot be
    opened."""
    if kind == "memory":
        from mock_server.store.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from mock_server.store.sqlite import SQLiteStore

        return SQLiteStore(path)
    if kind == "postgresql":
        lacking = [name for name in DRIVER if importlib.util.find_spec(name) is None]
        if lacking:
            raise ValueError(
                f"the postgresql store needs the [postgresql] extra ({', '.join(lacking)} "
                "missing): pip install 'etelecom-consent-sandbox[postgresql]'"
            )
        from mock_server.store.postgres import PostgresStore

        return PostgresStore(path, postgres or PostgresOptions())
    raise ValueError(
        f"unknown store {kind!r}: use memory, sqlite, sqlite:PATH or postgresql://USER@HOST/DB"
    )
