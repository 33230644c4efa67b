"""The store interface both backends implement, and its errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mock_server.domain.model import Consent, Shop
from mock_server.domain.query import ConsentQuery, SortKey


class Conflict(Exception):
    """A unique value (a key, a shop id) is taken already."""


class Store(Protocol):
    kind: str

    def create_shop(self, shop: Shop) -> None:
        """Keep a shop; `Conflict` when its id or a key is in use."""

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        """The shop whose api_key (or, for partner routes, shop_key) this is."""

    def max_shop_id(self) -> int: ...

    def count_shops(self) -> int: ...

    def insert_consent(self, consent: Consent) -> Consent:
        """Keep a new consent; its id is assigned here (the next one after the largest)."""

    def insert_many(self, consents: Iterable[Consent]) -> int:
        """Bulk load (datasets, benchmarks): ids assigned as by insert_consent."""

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
        """Up to `count` matching consents strictly past `start`, in the given direction."""

    def count_consents(self) -> int: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def reset(self) -> None:
        """Forget everything."""

    def close(self) -> None: ...
