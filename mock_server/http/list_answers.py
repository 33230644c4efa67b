"""ListRequestConsent's answers kept whole, encoded, while no stored consent changes.

Clients poll: the same shop asks the same query again and again until a customer answers. Such
a request is answered from here with no scan and no encoding, when the store's consents_version
(read after the world is brought to now) is the one the answer was read at. A store that cannot
tell (None: PostgreSQL, which other instances share) keeps nothing. A version never comes
back once it has moved on, so the answers of an older one are dropped at once: under writes
this keeps only what can still be asked. Answers are kept within a byte budget, the oldest
going first; a budget of 0 keeps none.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import orjson

from mock_server.domain.model import Shop
from mock_server.domain.paging import Page, PageRequest
from mock_server.domain.requests import ListRequest
from mock_server.http.codec import WireCodec
from mock_server.http.coverage import WireCoverage
from mock_server.services.consents import ConsentService

# An entry's objects besides its answer: the key, the entry, its paging and two dict slots.
_ENTRY_OVERHEAD = 1000


@dataclass(frozen=True, slots=True)
class _Kept:
    answer: bytes
    paging: PageRequest
    ends: Page[object]  # the page's cursors without its items: what coverage reads
    size: int


class ListAnswers:
    def __init__(
        self,
        consents: ConsentService,
        codec: WireCodec,
        coverage: WireCoverage,
        budget_bytes: int,
    ) -> None:
        self.consents = consents
        self.codec = codec
        self.coverage = coverage
        self.budget = budget_bytes
        self.size = 0
        self._kept: OrderedDict[tuple[int, ListRequest], _Kept] = OrderedDict()
        # The version every kept answer was read at (None: nothing is kept).
        self._version: Hashable | None = None

    def __len__(self) -> int:
        """How many answers are kept."""
        return len(self._kept)

    def answer(self, shop: Shop, request: ListRequest) -> bytes:
        """The encoded answer: the same bytes object while it holds (so what is derived from
        it, like the journal's redacted copy, can be kept by it too)."""
        settled = bool(self.budget)
        version = self.consents.list_version() if settled else None
        if version != self._version:
            self._kept.clear()
            self.size = 0
            self._version = version
        key = (shop.shop_id, request)
        kept = self._kept.get(key)
        if kept is not None:
            self.coverage.paged(shop.shop_id, kept.paging, kept.ends)
            return kept.answer
        page, paging = self.consents.list_request_consent(shop, request, settled)
        self.coverage.paged(shop.shop_id, paging, page)
        answer = orjson.dumps(self.codec.page(page, paging))
        if version is not None:
            # A copy: orjson's own result keeps its whole output buffer, more than `_size` counts.
            answer = bytes(memoryview(answer))
            ends: Page[object] = Page([], page.next, page.prev)
            self._keep(key, _Kept(answer, paging, ends, _size(answer, ends)))
        return answer

    def _keep(self, key: tuple[int, ListRequest], kept: _Kept) -> None:
        old = self._kept.pop(key, None)
        if old is not None:
            self.size -= old.size
        if kept.size > self.budget:
            return
        self._kept[key] = kept
        self.size += kept.size
        while self.size > self.budget:
            _, oldest = self._kept.popitem(last=False)
            self.size -= oldest.size


def _size(answer: bytes, ends: Page[object]) -> int:
    """What an entry keeps alive: its answer, its cursors, and the rest (_ENTRY_OVERHEAD)."""
    return sys.getsizeof(answer) + len(ends.next) + len(ends.prev) + _ENTRY_OVERHEAD
