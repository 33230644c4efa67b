"""Coverage at the HTTP edge: what a shop's wire requests went through (the Twirp errors they
got, CheckConsent's codes, paging, the faults they met) and the misuse only a request shows (a
key of the other side, a retry sooner than Retry-After). Counted in memory (domain/coverage.py's
Tally); each count keeps the request's journal entry as its example.

A wire request is its shop's once the key is read; an error answered before that (a wrong
Content-Type, a wrong key) is the shop's whose key it carries, on either side.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from starlette.types import Scope

from mock_server.domain import coverage
from mock_server.domain.coverage import Example, Tally
from mock_server.domain.errors import Unavailable
from mock_server.domain.faults import AFTER, DELAY, Fault
from mock_server.domain.paging import FIRST_PAGE, Page, PageRequest
from mock_server.http.journal import ENTRY_KEY
from mock_server.http.twirp import CODES
from mock_server.services.shops import ShopService

SHOP_KEY = "etelecom_sandbox.shop"  # scope: the shop id a wire request authenticated as
WIRE_PREFIX = "/v1/"
PARTNER_PREFIX = "/v1/partner."
WORKER = str(os.getpid())


class JournalExample:
    """A request as its journal entry: its number once the journal has kept it."""

    __slots__ = ("path", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.path = str(scope.get("path", ""))

    def describe(self) -> dict[str, str | int]:
        seq = (self.scope.get(ENTRY_KEY) or {}).get("seq")
        if seq is None:
            return {"path": self.path, "worker": WORKER}
        return {"journal_seq": int(seq), "worker": WORKER}


# The example of what the current wire request counts (set by the wire endpoint).
CURRENT: ContextVar[Example | None] = ContextVar("coverage_example", default=None)


class WireCoverage:
    def __init__(
        self,
        tally: Tally,
        shops: ShopService,
        now_ms: Callable[[], int],
        items: frozenset[str],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.tally = tally
        self.shops = shops
        self.now_ms = now_ms
        self.items = items
        self.wall = wall
        self.retries = tally.retries

    def _add(self, shop_id: int, item: str) -> None:
        if item in self.items or item.startswith(coverage.MISUSE_PREFIX):
            self.tally.add(shop_id, item, CURRENT.get())

    def arrived(self, scope: Scope, operation: str, shop_id: int) -> None:
        """A wire request of `shop_id` whose key was accepted (once per request, on whichever
        path answers it: http/wire_api.py or http/fast_wire.py)."""
        if not self.tally.enabled:
            return
        scope[SHOP_KEY] = shop_id
        CURRENT.set(JournalExample(scope))
        if self.retries and self.retries.early(shop_id, operation, self.wall(), self.now_ms()):
            self._add(shop_id, coverage.misuse_item(coverage.EARLY_RETRY))

    def checked(self, shop_id: int, code: int) -> None:
        self._add(shop_id, coverage.check_item(code))

    def paged(self, shop_id: int, paging: PageRequest, page: Page[Any]) -> None:
        if paging.after not in ("", FIRST_PAGE) and not page.next:
            self._add(shop_id, coverage.PAGING_END)
        if paging.before not in ("", FIRST_PAGE) and not page.prev:
            self._add(shop_id, coverage.PAGING_BACK)

    def faulted(self, shop_id: int, operation: str, fault: Fault) -> None:
        if not self.tally.enabled:
            return
        if fault.outcome is not None:
            self._add(shop_id, coverage.request_fault(fault.outcome))
        if fault.delay_ms or fault.outcome is None:
            self._add(shop_id, coverage.request_fault(DELAY))
        if fault.phase == AFTER:
            self._add(shop_id, coverage.FAULT_AFTER)
        error = fault.error
        if error is not None and error.retry_after_ms is not None:
            wait_ms = math.ceil(error.retry_after_ms / 1000) * 1000  # as Retry-After says it
            self.retries.sent(shop_id, operation, wait_ms, self.wall(), self.now_ms())

    def answered(self, scope: Scope, code: str, authorization: str) -> None:
        """A Twirp error went out: the shop's, when it is a wire request someone's key made
        (`authorization`: the request's Authorization header)."""
        path = str(scope.get("path", ""))
        if not self.tally.enabled or not path.startswith(WIRE_PREFIX):
            return
        shop_id: Any = scope.get(SHOP_KEY)
        if shop_id is None:
            if code == CODES[Unavailable]:  # before the shop was known: the store is lost
                return
            shop_id = self._owner(scope, path, code, authorization)
            if shop_id is None:
                return
            CURRENT.set(JournalExample(scope))
        self._add(shop_id, coverage.twirp_item(code))

    def _owner(self, scope: Scope, path: str, code: str, authorization: str) -> int | None:
        """The shop whose key a refused request carries; a key of the other side is misuse.
        Nobody's while the store cannot say (it is out of reach: the refusal is its 503)."""
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        found = None
        with contextlib.suppress(Unavailable):  # lost since the refusal
            found = self.shops.owner(key.strip())
        if found is None:
            return None
        shop, partner_key = found
        if code == "unauthenticated" and partner_key != path.startswith(PARTNER_PREFIX):
            CURRENT.set(JournalExample(scope))
            self._add(shop.shop_id, coverage.misuse_item(coverage.KEY_FOR_OTHER_SIDE))
        return shop.shop_id
