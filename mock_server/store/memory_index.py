"""One shop's consents in memory, indexed so that every page is read from an index.

Each filterable value (an OA, a phone, a reply status, ...) keeps its consents in both sort
orders, as sorted lists of keys (sortedcontainers: O(log n) to insert and remove, where a plain
list would move every later key). A page walks the smallest list that the query's filters
allow, from the cursor on, and checks the remaining filters on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sortedcontainers import SortedList

from mock_server.domain import states
from mock_server.domain.model import Consent
from mock_server.domain.query import ConsentQuery, SortKey

ORDERS = ("created_at", "updated_at")
# ConsentQuery's equality filters, by the Consent field each one compares.
FILTERS = {
    "oa_id": "oa_id",
    "user_id": "user_id",
    "phone_norm": "phone_norm",
    "call_type": "call_type",
    "reason_code": "reason_code",
    "status": "status",
    "reply_status": "reply_status",
    "is_charged": "is_charged",
}
NO_KEY = (-(2**63), -(2**63))


class _Keys:
    """Consents in both sort orders."""

    def __init__(self) -> None:
        self.orders: dict[str, Any] = {name: SortedList() for name in ORDERS}

    def add(self, consent: Consent) -> None:
        for name, keys in self.orders.items():
            keys.add((getattr(consent, name), consent.id))

    def remove(self, consent: Consent) -> None:
        for name, keys in self.orders.items():
            keys.discard((getattr(consent, name), consent.id))

    def __len__(self) -> int:
        return len(self.orders["created_at"])


class ShopIndex:
    def __init__(self) -> None:
        self.by_id: dict[int, Consent] = {}
        self.all = _Keys()
        self.by_value: dict[tuple[str, object], _Keys] = {}
        self.waiting: dict[tuple[int, str], set[int]] = {}  # (oa_id, phone_norm) -> ids
        # For CheckConsent, by (oa_id, phone_norm): keys by status, and the agreement that
        # runs longest (agreements never end early, so it is the one that may still run).
        self.by_status: dict[tuple[int, str, str], Any] = {}
        self.agreement: dict[tuple[int, str], tuple[int, int]] = {}  # (expires_at, id)

    def add(self, consent: Consent) -> None:
        self.by_id[consent.id] = consent
        self.all.add(consent)
        for field in FILTERS.values():
            self._values(field, getattr(consent, field)).add(consent)
        self._track(consent, None)

    def update(self, consent: Consent) -> None:
        old = self.by_id[consent.id]
        self.by_id[consent.id] = consent
        moved = old.updated_at != consent.updated_at
        for field in FILTERS.values():
            before, after = getattr(old, field), getattr(consent, field)
            if before != after:
                self._values(field, before).remove(old)
                self._values(field, after).add(consent)
            elif moved:
                keys = self._values(field, after).orders["updated_at"]
                keys.discard((old.updated_at, old.id))
                keys.add((consent.updated_at, consent.id))
        if moved:
            self.all.orders["updated_at"].discard((old.updated_at, old.id))
            self.all.orders["updated_at"].add((consent.updated_at, consent.id))
        self._track(consent, old)

    def _values(self, field: str, value: object) -> _Keys:
        keys = self.by_value.get((field, value))
        if keys is None:
            keys = self.by_value[(field, value)] = _Keys()
        return keys

    def _track(self, consent: Consent, old: Consent | None) -> None:
        who = (consent.oa_id, consent.phone_norm)
        ids = self.waiting.setdefault(who, set())
        if consent.reply_status == states.REPLY_WAITING:
            ids.add(consent.id)
        else:
            ids.discard(consent.id)
        key = (consent.created_at, consent.id)
        if old is None or old.status != consent.status:
            if old is not None:
                self.by_status[(*who, old.status)].discard(key)
            self.by_status.setdefault((*who, consent.status), SortedList()).add(key)
        if consent.reply_status == states.REPLY_AGREED and consent.expires_at is not None:
            best = self.agreement.get(who)
            mine = (consent.expires_at, consent.id)
            if best is None or best < mine:
                self.agreement[who] = mine

    def candidates(self, query: ConsentQuery) -> Any:
        """The smallest sorted list of keys that holds every consent the query may match."""
        best = self.all
        for name, field in FILTERS.items():
            value = getattr(query, name)
            if value is None:
                continue
            keys = self.by_value.get((field, value))
            if keys is None:
                return SortedList()  # no consent has this value
            if len(keys) < len(best):
                best = keys
        return best.orders[query.sort_field]

    def walk(self, query: ConsentQuery, start: SortKey | None, ascending: bool) -> Iterator[int]:
        """Ids in the query's order from past `start`, within its creation range."""
        keys = self.candidates(query)
        low, high = NO_KEY, None
        if query.sort_field == "created_at":  # the date range bounds the walk itself
            if query.created_from is not None:
                low = (query.created_from, -(2**63))
            if query.created_to is not None:
                high = (query.created_to, -(2**63))
        if start is not None:
            if ascending:
                low = max(low, start)
            else:
                high = start if high is None else min(high, start)
        inclusive = (start is None or not ascending, False)
        for _, consent_id in keys.irange(low, high, inclusive, reverse=not ascending):
            yield consent_id
