"""The store interface both backends implement, and its errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent, Shop
from mock_server.domain.query import ConsentQuery, SortKey


class Conflict(Exception):
    """A unique value (a key, a shop id) is taken already."""


@dataclass
class OutboxEntry:
    """One webhook event waiting to be POSTed (or done with). Wall-clock times, in seconds."""

    id: int
    shop_id: int
    oa_id: int
    url: str
    payload: str  # JSON, encoded once so every attempt sends the same bytes
    state: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    next_attempt: float = 0.0
    log: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class Attempt:
    at: float
    status: int | None  # HTTP status, None when no answer came
    error: str


class Store(Protocol):
    kind: str

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside happens at once or not at all (re-entrant)."""

    # Shops
    def create_shop(self, shop: Shop) -> None:
        """Keep a shop; `Conflict` when its id or a key is in use."""

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        """The shop whose api_key (or, for partner routes, shop_key) this is."""

    def max_shop_id(self) -> int: ...

    def count_shops(self) -> int: ...

    # Consents
    def insert_consent(self, consent: Consent) -> Consent:
        """Keep a new consent; its id is assigned here (the next one after the largest)."""

    def insert_many(self, consents: Iterable[Consent]) -> int:
        """Bulk load (datasets, benchmarks): ids assigned as by insert_consent."""

    def max_consent_id(self) -> int:
        """The largest id given so far (ids count up from there)."""

    def get_consent(self, consent_id: int) -> Consent | None: ...

    def has_waiting(self, shop_id: int, oa_id: int, phone_norm: str) -> bool:
        """Whether a request to this phone from this OA still waits for an answer (indexed:
        a phone may have any number of finished requests)."""

    def update_consent(self, consent: Consent) -> None: ...

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
        """Up to `count` matching consents strictly past `start`, in the given direction."""

    def count_consents(self) -> int: ...

    # Future events of the world
    def add_events(self, events: Iterable[Event]) -> None: ...

    def next_due(self) -> int | None:
        """When the earliest pending event is due."""

    def pop_due_events(self, now: int, limit: int) -> list[Event]:
        """Remove and return up to `limit` events due at or before `now`, in time order."""

    # Webhook outbox
    def add_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        """Queue entries (their ids are assigned here)."""

    def pending_outbox(self) -> list[OutboxEntry]:
        """Undelivered entries, oldest first (their `log` left empty: senders only append)."""

    def outbox_counts(self) -> dict[str, int]:
        """How many entries are in each state."""

    def record_attempt(self, entry: OutboxEntry) -> None:
        """Save an entry's state, attempts and newest log line."""

    def outbox_log(self, limit: int) -> list[OutboxEntry]:
        """The newest entries, delivered or not, with their attempts."""

    # Small settings kept with the data (clock, webhook targets, rules)
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str | None) -> None:
        """Set a value; None removes it."""

    def meta_items(self, prefix: str) -> Iterator[tuple[str, str]]: ...

    def reset(self) -> None:
        """Forget everything."""

    def close(self) -> None: ...
