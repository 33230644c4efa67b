"""In-memory store: per-shop sorted indexes so a page costs O(log n + page)."""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from mock_server.domain import states
from mock_server.domain.errors import AlreadyExists
from mock_server.domain.ids import CONSENT_ID_BASE
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import PENDING, Consent, OutboxEntry, Shop
from mock_server.domain.query import ConsentQuery, SortKey

ORDERS = ("created_at", "updated_at")


class _ShopIndex:
    """One shop's consents, each sort order kept as a sorted list of keys."""

    def __init__(self) -> None:
        self.by_id: dict[int, Consent] = {}
        self.orders: dict[str, list[SortKey]] = {name: [] for name in ORDERS}
        self.by_phone: dict[str, list[SortKey]] = {}  # phone_norm -> (created_at, id)
        self.waiting: dict[tuple[int, str], set[int]] = {}  # (oa_id, phone_norm) -> ids
        # For CheckConsent, by (oa_id, phone_norm): keys by status, and the agreement that
        # runs longest (agreements never end early, so it is the one that may still run).
        self.by_status: dict[tuple[int, str, str], list[SortKey]] = {}
        self.agreement: dict[tuple[int, str], tuple[int, int]] = {}  # (expires_at, id)

    def _track_history(self, consent: Consent, old: Consent | None) -> None:
        who = (consent.oa_id, consent.phone_norm)
        key = (consent.created_at, consent.id)
        if old is None or old.status != consent.status:
            if old is not None:
                self.by_status[(*who, old.status)].remove(key)
            _insort(self.by_status.setdefault((*who, consent.status), []), key)
        if consent.reply_status == states.REPLY_AGREED and consent.expires_at is not None:
            best = self.agreement.get(who)
            mine = (consent.expires_at, consent.id)
            if best is None or best < mine:
                self.agreement[who] = mine

    def _track_waiting(self, consent: Consent) -> None:
        ids = self.waiting.setdefault((consent.oa_id, consent.phone_norm), set())
        if consent.reply_status == states.REPLY_WAITING:
            ids.add(consent.id)
        else:
            ids.discard(consent.id)

    def add(self, consent: Consent) -> None:
        self.by_id[consent.id] = consent
        self._track_waiting(consent)
        self._track_history(consent, None)
        for name, keys in self.orders.items():
            _insort(keys, (getattr(consent, name), consent.id))
        _insort(self.by_phone.setdefault(consent.phone_norm, []), (consent.created_at, consent.id))

    def update(self, consent: Consent) -> None:
        old = self.by_id[consent.id]
        keys = self.orders["updated_at"]
        del keys[bisect.bisect_left(keys, (old.updated_at, old.id))]
        _insort(keys, (consent.updated_at, consent.id))
        self.by_id[consent.id] = consent
        self._track_waiting(consent)
        self._track_history(consent, old)


def _insort(keys: list[SortKey], key: SortKey) -> None:
    # New keys carry the latest time and id, so this is nearly always an append.
    if not keys or keys[-1] < key:
        keys.append(key)
    else:
        bisect.insort(keys, key)


class MemoryStore:
    kind = "memory"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._shops: dict[int, Shop] = {}
            self._keys: dict[tuple[bool, str], int] = {}
            self._indexes: dict[int, _ShopIndex] = {}
            self._shop_of: dict[int, int] = {}  # consent id -> shop id
            self._meta: dict[str, str] = {}
            self._events: list[tuple[int, int, Event]] = []  # heap of (due, seq, event)
            self._event_seq = itertools.count()
            self._outbox: dict[int, OutboxEntry] = {}
            self._claims: dict[int, tuple[str, float]] = {}  # outbox id -> (owner, until)
            self._last_id = CONSENT_ID_BASE

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Memory changes cannot fail half-way, so holding the lock is the whole transaction.
        with self._lock:
            yield

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
            self._indexes[shop.shop_id] = _ShopIndex()

    def shop_by_key(self, key: str, partner: bool) -> Shop | None:
        shop_id = self._keys.get((partner, key))
        return None if shop_id is None else self._shops[shop_id]

    def max_shop_id(self) -> int:
        return max(self._shops, default=0)

    def count_shops(self) -> int:
        return len(self._shops)

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
            self._indexes[consent.shop_id].update(replace(consent))

    def scan(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[Consent]:
        index = self._indexes.get(query.shop_id)
        if index is None:
            return []
        out: list[Consent] = []
        with self._lock:
            for key in _walk(self._candidates(index, query), start, ascending):
                consent = index.by_id[key[1]]
                if query.matches(consent):
                    out.append(consent)  # read-only: writers go through get_consent
                    if len(out) >= count:
                        break
        return out

    @staticmethod
    def _candidates(index: _ShopIndex, query: ConsentQuery) -> list[SortKey]:
        if query.phone_norm is None:
            return index.orders[query.sort_field]
        keys = index.by_phone.get(query.phone_norm, [])
        if query.sort_field == "created_at":
            return keys
        # A phone has few consents: re-key them by the requested field.
        return sorted((getattr(index.by_id[i], query.sort_field), i) for _, i in keys)

    def count_consents(self) -> int:
        return len(self._shop_of)

    def add_events(self, events: Iterable[Event]) -> None:
        with self._lock:
            for event in events:
                heapq.heappush(self._events, (event.due, next(self._event_seq), event))

    def next_due(self) -> int | None:
        return self._events[0][0] if self._events else None

    def pop_due_events(self, now: int, limit: int) -> list[Event]:
        out: list[Event] = []
        with self._lock:
            while self._events and self._events[0][0] <= now and len(out) < limit:
                out.append(heapq.heappop(self._events)[2])
        return out

    def add_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        with self._lock:
            for entry in entries:
                entry.id = len(self._outbox) + 1
                self._outbox[entry.id] = replace(entry, log=list(entry.log))

    def pending_outbox(self) -> list[OutboxEntry]:
        with self._lock:
            pending = [e for e in self._outbox.values() if e.state == "pending"]
            return [replace(e, log=[]) for e in pending]

    def claim_outbox(
        self, owner: str, now: float, lease: float, due_only: bool = True
    ) -> list[OutboxEntry]:
        with self._lock:
            firsts: dict[tuple[int, int], OutboxEntry] = {}
            for entry in self._outbox.values():  # in id order
                if entry.state == PENDING:
                    firsts.setdefault((entry.shop_id, entry.oa_id), entry)
            claimed = []
            for entry in firsts.values():
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
            self._claims.pop(entry.id, None)

    def outbox_log(self, limit: int) -> list[OutboxEntry]:
        with self._lock:
            newest = list(self._outbox.values())[-limit:] if limit else []
            return [replace(e, log=list(e.log)) for e in newest]

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


def _walk(keys: list[SortKey], start: SortKey | None, ascending: bool) -> Iterator[SortKey]:
    if ascending:
        first = 0 if start is None else bisect.bisect_right(keys, start)
        for position in range(first, len(keys)):
            yield keys[position]
    else:
        last = len(keys) if start is None else bisect.bisect_left(keys, start)
        for position in range(last - 1, -1, -1):
            yield keys[position]
