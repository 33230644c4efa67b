"""In-memory store: per-shop indexes (memory_index.py) so a page costs O(log n + page)."""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from mock_server.domain.errors import AlreadyExists
from mock_server.domain.ids import CONSENT_ID_BASE
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import (
    PENDING,
    Consent,
    ConsentRow,
    Happening,
    OutboxEntry,
    Shop,
    as_row,
)
from mock_server.domain.query import ConsentQuery, SortKey
from mock_server.store.group import nothing_pending
from mock_server.store.memory_index import ShopIndex


class MemoryStore:
    kind = "memory"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._version = 0  # counts changes to consents (consents_version)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._version += 1
            self._shops: dict[int, Shop] = {}
            self._keys: dict[tuple[bool, str], int] = {}
            self._indexes: dict[int, ShopIndex] = {}
            self._shop_of: dict[int, int] = {}  # consent id -> shop id
            self._meta: dict[str, str] = {}
            self._events: list[tuple[int, int, Event]] = []  # heap of (due, seq, event)
            self._event_seq = itertools.count()
            self._events_of: dict[int, list[Event]] = {}  # consent id -> its pending events
            self._history: dict[int, list[Happening]] = {}
            self._outbox: dict[int, OutboxEntry] = {}
            # Pending entries' ids by OA, in id order: what a sender may claim next.
            self._pending: dict[tuple[int, int], list[int]] = {}
            self._claims: dict[int, tuple[str, float]] = {}  # outbox id -> (owner, until)
            self._outbox_of: dict[int, list[int]] = {}  # consent id -> its outbox entry ids
            self._last_id = CONSENT_ID_BASE

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Memory changes cannot fail half-way, so holding the lock is the whole transaction.
        with self._lock:
            yield

    def committed(self) -> Awaitable[None]:
        return nothing_pending()  # memory keeps a change the moment it is made

    def create_shop(self, shop: Shop) -> None:
        with self._lock:
            wanted = [(False, shop.api_key), (True, shop.shop_key)]
            if shop.shop_id in self._shops or any(k in self._keys for k in wanted):
                raise AlreadyExists("shop id or key already in use")
            if shop.api_key == shop.shop_key:
                raise AlreadyExists("api_key and shop_key must differ")
            self._shops[shop.shop_id] = shop
            for k in wanted:
                self._keys[k] = shop.shop_id
            self._indexes[shop.shop_id] = ShopIndex()

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        shop_id = self._keys.get((partner, key))
        return None if shop_id is None else self._shops[shop_id]

    def max_shop_id(self) -> int:
        return max(self._shops, default=0)

    def count_shops(self) -> int:
        return len(self._shops)

    def get_shop(self, shop_id: int) -> Shop | None:
        return self._shops.get(shop_id)

    def shops_page(self, after: int, limit: int) -> list[Shop]:
        with self._lock:
            ids = sorted(i for i in self._shops if i > after)[:limit]
            return [self._shops[i] for i in ids]

    def insert_consent(self, consent: Consent) -> Consent:
        with self._lock:
            return self._insert(consent)

    def insert_many(self, consents: Iterable[Consent]) -> int:
        with self._lock:
            count = 0
            for consent in consents:
                self._insert(replace(consent))  # bulk callers keep their objects
                count += 1
            return count

    def _insert(self, consent: Consent) -> Consent:
        """Keeps `consent` itself (callers hand over a fresh one) and returns a copy of it,
        which the caller may go on changing and hand back with update_consent."""
        self._last_id += 1
        self._version += 1
        consent.id = self._last_id
        self._indexes[consent.shop_id].add(consent)
        self._shop_of[consent.id] = consent.shop_id
        return replace(consent)

    def max_consent_id(self) -> int:
        return self._last_id

    def get_consent(self, consent_id: int) -> Consent | None:
        shop_id = self._shop_of.get(consent_id)
        if shop_id is None:
            return None
        # A copy: callers change their consent and then hand it back with update_consent.
        return replace(self._indexes[shop_id].by_id[consent_id])

    def has_waiting(self, shop_id: int, oa_id: int, phone_norm: str) -> bool:
        index = self._indexes.get(shop_id)
        return bool(index and index.waiting.get((oa_id, phone_norm)))

    def newest_request(
        self, shop_id: int, oa_id: int, phone_norm: str, status: str
    ) -> Consent | None:
        index = self._indexes.get(shop_id)
        keys = index.by_status.get((oa_id, phone_norm, status)) if index else None
        return replace(index.by_id[keys[-1][1]]) if index and keys else None

    def longest_agreement(self, shop_id: int, oa_id: int, phone_norm: str) -> Consent | None:
        index = self._indexes.get(shop_id)
        best = index.agreement.get((oa_id, phone_norm)) if index else None
        return replace(index.by_id[best[1]]) if index and best else None

    def update_consent(self, consent: Consent) -> None:
        with self._lock:
            self._version += 1
            self._indexes[consent.shop_id].update(replace(consent))

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
        index = self._indexes.get(query.shop_id)
        if index is None:
            return []
        out: list[Consent] = []
        with self._lock:
            if index.exact(query):  # read-only, as below
                return [index.by_id[i] for i in index.page(query, start, ascending, count)]
            for consent_id in index.walk(query, start, ascending):
                consent = index.by_id[consent_id]
                if query.matches(consent):
                    out.append(consent)  # read-only: writers go through get_consent
                    if len(out) >= count:
                        break
        return out

    def scan_rows(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[ConsentRow]:
        return [as_row(consent) for consent in self.scan(query, start, ascending, count)]

    def count_consents(self) -> int:
        return len(self._shop_of)

    def consents_version(self) -> int:
        return self._version

    def add_events(self, events: Iterable[Event]) -> None:
        with self._lock:
            for event in events:
                heapq.heappush(self._events, (event.due, next(self._event_seq), event))
                self._events_of.setdefault(event.consent_id, []).append(event)

    def next_due(self) -> int | None:
        return self._events[0][0] if self._events else None

    def pop_due_events(self, now: int, limit: int) -> list[Event]:
        out: list[Event] = []
        with self._lock:
            while self._events and self._events[0][0] <= now and len(out) < limit:
                event = heapq.heappop(self._events)[2]
                out.append(event)
                pending = self._events_of.get(event.consent_id, [])
                pending.remove(event)
                if not pending:
                    self._events_of.pop(event.consent_id, None)
        return out

    def events_of(self, consent_id: int) -> list[Event]:
        with self._lock:
            return sorted(self._events_of.get(consent_id, ()), key=lambda e: e.due)

    def upcoming_events(self, limit: int) -> list[Event]:
        """The heap's `limit` smallest, walked from its root: O(limit log limit)."""
        heap, out = self._events, list[Event]()
        with self._lock:
            frontier = [(heap[0], 0)] if heap else []
            while frontier and len(out) < limit:
                (_, _, event), at = heapq.heappop(frontier)
                out.append(event)
                for child in (2 * at + 1, 2 * at + 2):
                    if child < len(heap):
                        heapq.heappush(frontier, (heap[child], child))
        return out

    def add_history(self, happenings: Iterable[Happening]) -> None:
        with self._lock:
            for happening in happenings:
                self._history.setdefault(happening.consent_id, []).append(happening)

    def history_of(self, consent_id: int) -> list[Happening]:
        with self._lock:
            return sorted(self._history.get(consent_id, ()), key=lambda h: h.at)

    def add_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        with self._lock:
            for entry in entries:
                entry.id = len(self._outbox) + 1
                self._outbox[entry.id] = replace(entry, log=list(entry.log))
                self._track_pending(self._outbox[entry.id])
                if entry.consent_id:
                    self._outbox_of.setdefault(entry.consent_id, []).append(entry.id)

    def pending_outbox(self) -> list[OutboxEntry]:
        with self._lock:
            pending = [e for e in self._outbox.values() if e.state == "pending"]
            return [replace(e, log=[]) for e in pending]

    def _track_pending(self, entry: OutboxEntry) -> None:
        ids = self._pending.setdefault((entry.shop_id, entry.oa_id), [])
        at = bisect.bisect_left(ids, entry.id)
        there = at < len(ids) and ids[at] == entry.id
        if entry.state == PENDING and not there:
            ids.insert(at, entry.id)  # nearly always at the end: ids grow
        elif entry.state != PENDING and there:
            del ids[at]

    def claim_outbox(
        self, owner: str, now: float, lease: float, due_only: bool = True
    ) -> list[OutboxEntry]:
        with self._lock:
            firsts = [self._outbox[ids[0]] for ids in self._pending.values() if ids]
            claimed = []
            for entry in firsts:
                holder, until = self._claims.get(entry.id, ("", 0.0))
                free = not holder or holder == owner or until < now
                if free and (not due_only or entry.next_attempt <= now):
                    self._claims[entry.id] = (owner, now + lease)
                    claimed.append(replace(entry, log=[]))
            return claimed

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(e.state for e in self._outbox.values()))

    def record_attempt(self, entry: OutboxEntry) -> None:
        with self._lock:
            kept = self._outbox[entry.id]
            self._outbox[entry.id] = replace(entry, log=kept.log + entry.log[-1:])
            self._track_pending(self._outbox[entry.id])
            self._claims.pop(entry.id, None)

    def outbox_log(self, limit: int, state: str | None = None) -> list[OutboxEntry]:
        with self._lock:
            newest: list[OutboxEntry] = []
            for entry_id in range(len(self._outbox), 0, -1):  # ids are 1..n, newest last
                if len(newest) >= limit:
                    break
                entry = self._outbox[entry_id]
                if state is None or entry.state == state:
                    newest.append(replace(entry, log=list(entry.log)))
            return newest[::-1]

    def outbox_of(self, consent_id: int) -> list[OutboxEntry]:
        with self._lock:
            entries = (self._outbox[i] for i in self._outbox_of.get(consent_id, ()))
            return [replace(e, log=list(e.log)) for e in entries]

    def requeue_outbox(self, entry_id: int) -> OutboxEntry | None:
        with self._lock:
            entry = self._outbox.get(entry_id)
            if entry is None:
                return None
            entry.state, entry.attempts, entry.next_attempt = PENDING, 0, 0.0
            self._claims.pop(entry_id, None)
            self._track_pending(entry)
            return replace(entry, log=list(entry.log))

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._meta.pop(key, None)
            else:
                self._meta[key] = value

    def replace_meta(self, key: str, old: str | None, new: str | None) -> bool:
        with self._lock:
            if self._meta.get(key) != old:
                return False
            self.set_meta(key, new)
            return True

    def meta_items(self, prefix: str) -> Iterator[tuple[str, str]]:
        with self._lock:
            items = sorted((k, v) for k, v in self._meta.items() if k.startswith(prefix))
        return iter(items)

    def close(self) -> None:
        pass
