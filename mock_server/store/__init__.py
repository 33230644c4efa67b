"""Storage adapters behind the domain's ports: `open_store(url)` picks the backend."""

from __future__ import annotations

from mock_server.domain.ports import Store

KINDS = ("memory", "sqlite")


def open_store(kind: str, path: str = "") -> Store:
    """A store of `kind` ("memory", or "sqlite" with a file path); ValueError otherwise."""
    if kind == "memory":
        from mock_server.store.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from mock_server.store.sqlite import SQLiteStore

        return SQLiteStore(path)
    raise ValueError(f"unknown store {kind!r}: use memory, sqlite or sqlite:PATH")
