"""Storage behind one interface: `open_store(settings)` picks the backend."""

from __future__ import annotations

from mock_server.settings import Settings
from mock_server.store.base import Conflict, Store

__all__ = ["Conflict", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    kind = settings.store_kind
    if kind == "memory":
        from mock_server.store.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from mock_server.store.sqlite import SQLiteStore

        return SQLiteStore(settings.store_path)
    raise ValueError(f"unknown store {settings.store!r}: use memory, sqlite or sqlite:PATH")
