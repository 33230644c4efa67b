"""Storage adapters behind the domain's ports: `open_store(kind, path)` picks the backend."""

from __future__ import annotations

import importlib.util

from mock_server.domain.ports import Store

KINDS = ("memory", "sqlite", "postgresql")
DRIVER = ("psycopg", "psycopg_pool")  # the [postgresql] extra


def open_store(kind: str, path: str = "", pool_size: int = 4, timeout: float = 2.0) -> Store:
    """A store of `kind`: "memory", "sqlite" with a file path, or "postgresql" with a URL (its
    pool of at most `pool_size` connections, waiting `timeout` seconds for one). ValueError
    for an unknown kind or a missing driver, OSError for a store that cannot be opened."""
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

        return PostgresStore(path, pool_size, timeout)
    raise ValueError(
        f"unknown store {kind!r}: use memory, sqlite, sqlite:PATH or postgresql://USER@HOST/DB"
    )
