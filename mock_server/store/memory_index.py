"""One shop's consents in memory, indexed so that every page is read from an index.

Each filterable value (an OA, a phone, a reply status, ...) keeps its consents in both sort
orders, as sorted lists of keys. New keys carry the newest time and id, so adding one is nearly
always an append; a change moves a key of a recent consent, near the end, so the list shifts
little. A page walks the smallest list that the query's filters allow, from the cursor on, and
checks the remaining filters on the way; when that list answers the query exactly (one filter at
most), the page is one slice of it, with no check.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

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


def insort(keys: list[SortKey], key: SortKey) -> None:
    if not keys or keys[-1] < key:
        keys.append(key)  # the usual case: the newest consent, or the one just changed
    else:
        bisect.insort(keys, key)


def discard(keys: list[SortKey], key: SortKey) -> None:
    at = bisect.bisect_left(keys, key)
    if at < len(keys) and keys[at] == key:
        del keys[at]


class _Keys:
    """Consents in both sort orders."""

    def __init__(self) -> None:
        self.orders: dict[str, list[SortKey]] = {name: [] for name in ORDERS}

    def add(self, consent: Consent) -> None:
        for name, keys in self.orders.items():
            insort(keys, (getattr(consent, name), consent.id))

    def remove(self, consent: Consent) -> None:
        for name, keys in self.orders.items():
            discard(keys, (getattr(consent, name), consent.id))

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
        self.by_status: dict[tuple[int, str, str], list[SortKey]] = {}
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
                discard(keys, (old.updated_at, old.id))
                insort(keys, (consent.updated_at, consent.id))
        if moved:
            discard(self.all.orders["updated_at"], (old.updated_at, old.id))
            insort(self.all.orders["updated_at"], (consent.updated_at, consent.id))
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
                discard(self.by_status[(*who, old.status)], key)
            insort(self.by_status.setdefault((*who, consent.status), []), key)
        if consent.reply_status == states.REPLY_AGREED and consent.expires_at is not None:
            best = self.agreement.get(who)
            mine = (consent.expires_at, consent.id)
            if best is None or best < mine:
                self.agreement[who] = mine

    def candidates(self, query: ConsentQuery) -> list[SortKey]:
        """The smallest sorted list of keys that holds every consent the query may match."""
        best = self.all
        for name, field in FILTERS.items():
            value = getattr(query, name)
            if value is None:
                continue
            keys = self.by_value.get((field, value))
            if keys is None:
                return []  # no consent has this value
            if len(keys) < len(best):
                best = keys
        return best.orders[query.sort_field]

    def exact(self, query: ConsentQuery) -> bool:
        """Whether every key `walk` yields matches the query, so a page needs no check: one
        equality filter at most (its own list is walked), and a date range only on the
        creation order (which bounds the walk itself)."""
        if sum(getattr(query, name) is not None for name in FILTERS) > 1:
            return False
        dated = query.created_from is not None or query.created_to is not None
        return not dated or query.sort_field == "created_at"

    def page(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool, count: int
    ) -> list[int]:
        """The first `count` ids `walk` would yield, sliced at once (for `exact` queries)."""
        keys, first, last = self._bounds(query, start, ascending)
        taken = (
            keys[first : min(last, first + count)]
            if ascending
            else keys[max(first, last - count) : last][::-1]
        )
        return [key[1] for key in taken]

    def walk(self, query: ConsentQuery, start: SortKey | None, ascending: bool) -> Iterator[int]:
        """Ids in the query's order from past `start`, within its creation range."""
        keys, first, last = self._bounds(query, start, ascending)
        positions = range(first, last) if ascending else range(last - 1, first - 1, -1)
        for position in positions:
            yield keys[position][1]

    def _bounds(
        self, query: ConsentQuery, start: SortKey | None, ascending: bool
    ) -> tuple[list[SortKey], int, int]:
        """The query's candidate keys, and the slice of them a page may take from."""
        keys = self.candidates(query)
        first, last = 0, len(keys)
        if query.sort_field == "created_at":  # the date range bounds the walk itself
            if query.created_from is not None:
                first = bisect.bisect_left(keys, (query.created_from, -(2**63)))
            if query.created_to is not None:
                last = bisect.bisect_left(keys, (query.created_to, -(2**63)))
        if start is not None and ascending:
            first = max(first, bisect.bisect_right(keys, start))
        elif start is not None:
            last = min(last, bisect.bisect_left(keys, start))
        return keys, first, last
