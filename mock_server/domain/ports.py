"""What the domain and the services need from storage. The adapters in store/ implement it."""

from __future__ import annotations

from collections.abc import Awaitable, Hashable, Iterable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Protocol

from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent, ConsentRow, Happening, OutboxEntry, Shop
from mock_server.domain.query import ConsentQuery, SortKey

# Set (by the HTTP edge) while a request's service runs: its write transactions may join one
# commit shared by the requests of the same event-loop tick; the request then awaits
# `Store.committed()` before it answers, so nothing is acknowledged before it is kept.
GROUP_COMMIT: ContextVar[bool] = ContextVar("group_commit", default=False)


class MetaStore(Protocol):
    """Small values kept with the data: the clock, rules, webhook targets."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str | None) -> None:
        """Set a value; None removes it."""

    def replace_meta(self, key: str, old: str | None, new: str | None) -> bool:
        """Set `key` to `new` only if its value is `old` now (None: absent), atomically even
        against other processes on the store; whether it did. For read-modify-write (the
        clock), where set_meta could undo another instance's change."""

    def meta_items(self, prefix: str) -> Iterator[tuple[str, str]]: ...


class ShopStore(Protocol):
    def create_shop(self, shop: Shop) -> None:
        """Keep a shop; `AlreadyExists` when its id or a key is in use."""

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        """The shop whose api_key (or, for partner routes, shop_key) this is."""

    def max_shop_id(self) -> int:
        """The largest shop id. A store shared by several processes may make callers that ask
        inside a transaction take turns until it ends (their next ids then never clash)."""

    def count_shops(self) -> int: ...

    def get_shop(self, shop_id: int) -> Shop | None: ...

    def shops_page(self, after: int, limit: int) -> list[Shop]:
        """Up to `limit` shops whose id is greater than `after`, by id."""


class ConsentStore(Protocol):
    def insert_consent(self, consent: Consent) -> Consent:
        """Keep a new consent; its id is assigned here (the next one after the largest). The
        caller hands `consent` over: the store may number it and return it, or a copy."""

    def insert_many(self, consents: Iterable[Consent]) -> int:
        """Bulk load (datasets, benchmarks): ids assigned as by insert_consent."""

    def max_consent_id(self) -> int:
        """The largest id given out. Inside a transaction, no other consent is numbered until
        it ends, so a bulk load may number its own from here."""

    def get_consent(self, consent_id: int) -> Consent | None: ...

    def has_waiting(self, shop_id: int, oa_id: int, phone_norm: str) -> bool:
        """Whether a request to this phone from this OA still waits for an answer."""

    def newest_request(
        self, shop_id: int, oa_id: int, phone_norm: str, status: str
    ) -> Consent | None:
        """The newest request to this phone from this OA with this status (indexed)."""

    def longest_agreement(self, shop_id: int, oa_id: int, phone_norm: str) -> Consent | None:
        """The agreed request to this phone whose window ends last (indexed): if any agreement
        still runs, this one does."""

    def update_consent(self, consent: Consent) -> None: ...

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
        """Up to `count` matching consents strictly past `start`, in the given direction."""

    def scan_rows(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[ConsentRow]:
        """`scan`'s consents as stored rows (what a list page encodes: no objects made)."""

    def count_consents(self) -> int: ...

    def consents_version(self) -> Hashable | None:
        """A value that differs whenever a stored consent may have changed since it was last
        asked (here, or on a store several processes share, in another process); None when
        the store cannot tell cheaply, and then nothing may be kept on the strength of it."""


class EventStore(Protocol):
    def add_events(self, events: Iterable[Event]) -> None: ...

    def next_due(self) -> int | None:
        """When the earliest pending event is due."""

    def pop_due_events(self, now: int, limit: int) -> list[Event]:
        """Remove and return up to `limit` events due at or before `now`, in time order."""

    def events_of(self, consent_id: int) -> list[Event]:
        """A consent's pending events, in time order."""

    def upcoming_events(self, limit: int) -> list[Event]:
        """The `limit` pending events due first, in time order."""


class HistoryStore(Protocol):
    def add_history(self, happenings: Iterable[Happening]) -> None: ...

    def history_of(self, consent_id: int) -> list[Happening]:
        """What happened to a consent, in time order."""


class OutboxStore(Protocol):
    def add_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        """Queue entries (their ids are assigned here)."""

    def pending_outbox(self) -> list[OutboxEntry]:
        """Undelivered entries, oldest first (their `log` left empty: senders only append)."""

    def claim_outbox(
        self, owner: str, now: float, lease: float, due_only: bool = True
    ) -> list[OutboxEntry]:
        """Claim, for `lease` seconds, the oldest pending entry of each OA that is due (unless
        `due_only` is false) and that no other owner holds: the entries `owner` may now send.
        Several processes on one store never send the same entry at once, and an OA's entries
        go out in order; a lease that runs out (its owner died) frees the entry again."""

    def outbox_counts(self) -> dict[str, int]: ...

    def record_attempt(self, entry: OutboxEntry) -> None:
        """Save an entry's state, attempts and newest log line."""

    def outbox_log(self, limit: int, state: str | None = None) -> list[OutboxEntry]:
        """The newest entries (in `state`, or any), oldest first, with their attempts."""

    def outbox_of(self, consent_id: int) -> list[OutboxEntry]:
        """The entries a consent's changes queued, oldest first, with their attempts."""

    def requeue_outbox(self, entry_id: int) -> OutboxEntry | None:
        """Make an entry pending again with no attempts spent (its log kept); None if none."""


class Store(MetaStore, ShopStore, ConsentStore, EventStore, HistoryStore, OutboxStore, Protocol):
    """Everything, with transactions: what is done inside one happens at once or not at all.
    A store that loses its database raises the domain's `Unavailable` from any call."""

    kind: str

    def transaction(self) -> AbstractContextManager[None]: ...

    def committed(self) -> Awaitable[None]:
        """Done once every write of this tick's shared commit is kept (see GROUP_COMMIT)."""

    def reset(self) -> None:
        """Forget everything."""

    def close(self) -> None: ...
