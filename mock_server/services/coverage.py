"""Integration coverage: getCoverage, resetCoverage, and keeping the counts.

What requests go through is counted in memory by each process (domain/coverage.py's Tally, fed
by the HTTP edge and the webhook sender) and written to the store at most once a second, in one
transaction, under MetaStore keys `coverage:<shop_id>:<item>`: several workers (or instances on
one PostgreSQL database) add up, each count added by compare-and-set. The outcomes of consents
and the misuse their requests show are read from the consents themselves
(domain/coverage_read.py). A read writes this process's counts first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.domain import coverage
from mock_server.domain.coverage import Item, Mark, MisuseRule, Model, Tally
from mock_server.domain.coverage_read import Burst, ConsentReading
from mock_server.domain.errors import Conflict, NotFound, Unavailable
from mock_server.domain.model import Consent
from mock_server.domain.ports import Store
from mock_server.domain.query import ConsentQuery
from mock_server.domain.world import World
from mock_server.services.background import in_background

log = logging.getLogger("etelecom_sandbox.coverage")
PREFIX = "coverage:"
SINCE = "~since"  # the largest consent id when the coverage was last reset
FLUSH_SECONDS = 1.0
SCAN_BATCH = 1000
SHOPS_BATCH = 500
MAX_TRIES = 100  # compare-and-set tries of one count

ExampleJson = dict[str, Any] | None  # as kept: where to look


@dataclass(frozen=True)
class ItemCount:
    item: Item
    count: int
    example: ExampleJson


@dataclass(frozen=True)
class MisuseCount:
    rule: MisuseRule
    count: int
    example: ExampleJson


@dataclass(frozen=True)
class Report:
    shop_ids: tuple[int, ...]
    items: tuple[ItemCount, ...]
    misuse: tuple[MisuseCount, ...]  # only the rules broken

    @property
    def reached(self) -> int:
        return sum(1 for i in self.items if i.count)


@dataclass(frozen=True)
class Reading:
    """What reading consents needs to know."""

    failure_codes: frozenset[int]
    duplicate_code: int
    burst: Burst


class CoverageService:
    def __init__(
        self, store: Store, world: World, model: Model, tally: Tally, reading: Reading
    ) -> None:
        self.store = store
        self.world = world
        self.model = model
        self.tally = tally
        self.reading = reading

    def flush(self) -> int:
        """Write this process's pending counts in one transaction; how many keys changed."""
        taken = self.tally.take()
        if not taken:
            return 0
        try:
            with self.store.transaction():
                # In key order: instances flushing at once lock the same rows in the same order.
                for (shop_id, item), mark in sorted(taken.items()):
                    self._add(shop_id, item, mark)
        except BaseException:
            self.tally.restore(taken)
            raise
        return len(taken)

    def _add(self, shop_id: int, item: str, mark: Mark) -> None:
        """Add a count to the stored one; read again and retry when another process changed
        it meanwhile (a plain write could undo its count)."""
        key = f"{PREFIX}{shop_id}:{item}"
        example = None if mark.example is None else mark.example.describe()
        for _ in range(MAX_TRIES):
            raw = self.store.get_meta(key)
            kept: dict[str, Any] = json.loads(raw) if raw else {"n": 0, "ex": None}
            kept["n"] += mark.count
            if kept.get("ex") is None:
                kept["ex"] = example
            if self.store.replace_meta(key, raw, json.dumps(kept, separators=(",", ":"))):
                return
        raise Conflict(f"coverage: {key} is being changed by others too often", "coverage")

    def get_coverage(self, shop_id: int | None) -> Report:
        """One shop's coverage, or every shop's together."""
        self.flush()
        now = self.world.settle()
        shop_ids = self._shop_ids(shop_id)
        counted: dict[str, Mark] = {}
        examples: dict[str, ExampleJson] = {}
        for shop in shop_ids:
            for item, (count, example) in self._stored(shop).items():
                counted.setdefault(item, Mark()).add(count, None)
                if examples.get(item) is None:
                    examples[item] = example
            for item, mark in self._read(shop, now).items():
                counted.setdefault(item, Mark()).add(mark.count, None)
                if examples.get(item) is None and mark.example is not None:
                    examples[item] = mark.example.describe()
        items = tuple(
            ItemCount(i, counted[i.id].count if i.id in counted else 0, examples.get(i.id))
            for i in self.model.items
        )
        misuse = tuple(
            MisuseCount(rule, counted[key].count, examples.get(key))
            for rule in self.model.rules
            if (key := coverage.misuse_item(rule.id)) in counted
        )
        return Report(tuple(shop_ids), items, misuse)

    def reset_coverage(self, shop_id: int | None) -> Report:
        """Forget the counts (of one shop, or all); the consents made so far stop counting."""
        self._shop_ids(shop_id)  # NotFound for a shop that does not exist
        self.tally.forget(shop_id)
        prefix = PREFIX if shop_id is None else f"{PREFIX}{shop_id}:"
        with self.store.transaction():
            for key, _ in list(self.store.meta_items(prefix)):
                self.store.set_meta(key, None)
            self.store.set_meta(f"{prefix}{SINCE}", str(self.store.max_consent_id()))
        return self.get_coverage(shop_id)

    def _shop_ids(self, shop_id: int | None) -> list[int]:
        if shop_id is not None:
            if self.store.get_shop(shop_id) is None:
                raise NotFound(f"no shop {shop_id}", "shop_id")
            return [shop_id]
        found: list[int] = []
        after = 0
        while page := self.store.shops_page(after, SHOPS_BATCH):
            found += [shop.shop_id for shop in page]
            after = page[-1].shop_id
        return found

    def _stored(self, shop_id: int) -> dict[str, tuple[int, ExampleJson]]:
        stored = {}
        prefix = f"{PREFIX}{shop_id}:"
        for key, raw in self.store.meta_items(prefix):
            item = key.removeprefix(prefix)
            if item != SINCE:
                kept = json.loads(raw)
                stored[item] = (int(kept["n"]), kept.get("ex"))
        return stored

    def _since(self, shop_id: int) -> int:
        marks = (f"{PREFIX}{SINCE}", f"{PREFIX}{shop_id}:{SINCE}")
        return max((int(m) for key in marks if (m := self.store.get_meta(key))), default=0)

    def _read(self, shop_id: int, now: int) -> Mapping[str, Mark]:
        r = self.reading
        reading = ConsentReading(
            r.failure_codes, r.duplicate_code, r.burst, now, self._since(shop_id)
        )
        reading.read(self._consents(shop_id))
        return reading.marks

    def _consents(self, shop_id: int) -> Iterator[Consent]:
        """The shop's consents, oldest first."""
        query = ConsentQuery(shop_id, sort_field="created_at", descending=False)
        start = None
        while batch := self.store.scan(query, start, True, SCAN_BATCH):
            yield from batch
            start = query.key(batch[-1])

    async def run(self) -> None:
        """Background loop of a serving sandbox: write the counts at most once a second."""
        lost = False  # the store is unreachable: said once, until it is back
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                if self.flush() and lost:  # wrote something: the store answers again
                    log.warning("the store is back: coverage counts are written again")
                    lost = False
            except Unavailable as exc:  # the counts wait in memory
                if not lost:
                    log.warning("coverage counts wait for the store: %s", exc.message)
                    lost = True
            except Exception:  # keep serving; the counts wait for the next tick
                log.exception("writing coverage counts failed")


@contextlib.asynccontextmanager
async def flushing(service: CoverageService) -> AsyncIterator[None]:
    try:
        async with in_background(service.run()):
            yield
    finally:
        with contextlib.suppress(Exception):
            service.flush()  # what is left, before the store closes
