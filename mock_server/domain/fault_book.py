"""Where fault rules are kept, and the first-match decision with its counts.

Lists: the global one (a scenario file at start-up, or the control API) and one per shop, tried
shop first. They live in the store (MetaStore), with each rule's counts beside them, so every
worker on one SQLite file sees the same rules and counts; a decision reads and writes them in
the caller's transaction. Rules are kept as the documents they were given in (so they read back
as written), each with the virtual instant it was set (for `ttl`), and parsed once per
distinct list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mock_server.domain import faults as f
from mock_server.domain.errors import AlreadyExists
from mock_server.domain.fault_rules import Document, parse_fault, parse_faults
from mock_server.domain.ports import MetaStore

LIST_PREFIX = "faults:list:"
COUNT_PREFIX = "faults:count:"
GLOBAL = "global"
SHOP = "shop:"
AUTO_ID = "fault-"
T = TypeVar("T")


def scope_of(shop_id: int | None) -> str:
    return GLOBAL if shop_id is None else f"{SHOP}{shop_id}"


@dataclass(frozen=True)
class Placed:
    """A rule in its list: its document, when it was set (virtual ms), and the parsed rule."""

    document: dict[str, Any]
    added_at: int
    rule: f.FaultRule


@dataclass(frozen=True)
class RuleState:
    """A rule and what it has done, as of `now`."""

    placed: Placed
    matched: int
    hits: int
    now: int

    @property
    def expires_at(self) -> int | None:
        ttl = self.placed.rule.ttl_ms
        return None if ttl is None else self.placed.added_at + ttl

    @property
    def remaining(self) -> int | None:
        times = self.placed.rule.times
        return None if times is None else max(times - self.hits, 0)

    @property
    def active(self) -> bool:
        expires = self.expires_at
        return self.remaining != 0 and (expires is None or self.now < expires)


def with_ids(documents: Sequence[Document], taken: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Copies of the documents, each with an id: `fault-<n>` for those without one, the first
    such name neither the list nor `taken` uses."""
    used = {str(d["id"]) for d in documents if d.get("id")} | set(taken)
    out = []
    for document in documents:
        copy = dict(document)
        if not copy.get("id"):
            n = 1
            while f"{AUTO_ID}{n}" in used:
                n += 1
            copy["id"] = f"{AUTO_ID}{n}"
            used.add(copy["id"])
        out.append(copy)
    return out


class FaultBook:
    def __init__(self, store: MetaStore, policy: f.FaultPolicy) -> None:
        self.store = store
        self.policy = policy
        self._parsed: dict[str, list[Placed]] = {}

    # Lists ---------------------------------------------------------------------------------

    def set_rules(self, shop_id: int | None, documents: Sequence[Document], now: int) -> None:
        """Replace a list; its counts start again from zero."""
        documents = with_ids(documents)
        parse_faults(documents, "faults", self.policy)
        scope = scope_of(shop_id)
        self._write(scope, [{"rule": d, "added_at": now} for d in documents])
        self.store.set_meta(COUNT_PREFIX + scope, None)

    def add_rule(self, shop_id: int | None, document: Document, now: int) -> RuleState:
        scope = scope_of(shop_id)
        kept = self._stored(scope)
        ids = [str(item["rule"]["id"]) for item in kept]
        (document,) = with_ids([document], ids)
        if document["id"] in ids:
            raise AlreadyExists(f'fault.id: this list has a rule "{document["id"]}" already')
        rule = parse_fault(document, "fault", self.policy)
        self._write(scope, [*kept, {"rule": document, "added_at": now}])
        return RuleState(Placed(document, now, rule), 0, 0, now)

    def documents(self, shop_id: int | None) -> list[dict[str, Any]]:
        return [item["rule"] for item in self._stored(scope_of(shop_id))]

    def clear(self, shop_id: int | None) -> None:
        """One shop's list, or (None) every list."""
        scopes = [scope_of(shop_id)] if shop_id is not None else list(self._scopes())
        for scope in scopes:
            self.store.set_meta(LIST_PREFIX + scope, None)
            self.store.set_meta(COUNT_PREFIX + scope, None)

    def tables(self, now: int) -> tuple[list[RuleState], dict[int, list[RuleState]]]:
        """(the global list, each shop's list), every rule with its counts."""
        shops = {
            int(scope.removeprefix(SHOP)): self._states(scope, now)
            for scope in self._scopes()
            if scope.startswith(SHOP)
        }
        return self._states(GLOBAL, now), shops

    def has_rules(self, shop_id: int) -> bool:
        """Whether any rule is placed for this shop or for every shop: without one, no request
        of the shop need be looked at."""
        return any(self._placed(scope) for scope in (scope_of(shop_id), GLOBAL))

    def may_touch_call(self, call: f.Call) -> bool:
        """Cheap (no write, no counts): whether a rule matches this request at all."""
        return self._any(call.shop_id, lambda r: r.matches_call(call))

    def may_touch_delivery(self, delivery: f.Delivery) -> bool:
        return self._any(delivery.shop_id, lambda r: r.matches_delivery(delivery))

    def _any(self, shop_id: int, matches: Callable[[f.FaultRule], bool]) -> bool:
        scopes = (scope_of(shop_id), GLOBAL)
        return any(matches(p.rule) for scope in scopes for p in self._placed(scope))

    # Decisions -----------------------------------------------------------------------------

    def decide_call(self, call: f.Call, now: int) -> f.Fault | None:
        """The fault of the first rule that matches this request and fires (call inside a
        transaction: the counts it reads are written back)."""
        return self._decide(call.shop_id, now, lambda r: r.matches_call(call), f.request_fault)

    def decide_delivery(self, delivery: f.Delivery, now: int) -> f.DeliveryFault | None:
        return self._decide(
            delivery.shop_id, now, lambda r: r.matches_delivery(delivery), f.delivery_fault
        )

    def _decide(
        self,
        shop_id: int,
        now: int,
        matches: Callable[[f.FaultRule], bool],
        make: Callable[[f.FaultRule, f.Draw], T],
    ) -> T | None:
        for scope in (scope_of(shop_id), GLOBAL):
            placed = self._placed(scope)
            if not placed:
                continue
            counts = self._counts(scope)
            for item in placed:
                rule = item.rule
                matched, hits = counts.get(rule.id, (0, 0))
                if not RuleState(item, matched, hits, now).active or not matches(rule):
                    continue
                unit = f.draw(self.policy.seed, rule.id, matched)
                fires = unit.fires < rule.probability
                counts[rule.id] = (matched + 1, hits + int(fires))
                self.store.set_meta(COUNT_PREFIX + scope, json.dumps(counts))
                if fires:
                    return make(rule, unit)
        return None

    # Storage -------------------------------------------------------------------------------

    def _scopes(self) -> Iterator[str]:
        for key, _ in self.store.meta_items(LIST_PREFIX):
            yield key.removeprefix(LIST_PREFIX)

    def _stored(self, scope: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(self.store.get_meta(LIST_PREFIX + scope) or "[]")
        return items

    def _write(self, scope: str, items: list[dict[str, Any]]) -> None:
        self.store.set_meta(LIST_PREFIX + scope, json.dumps(items) if items else None)

    def _counts(self, scope: str) -> dict[str, tuple[int, int]]:
        raw: Mapping[str, list[int]] = json.loads(self.store.get_meta(COUNT_PREFIX + scope) or "{}")
        return {rule_id: (pair[0], pair[1]) for rule_id, pair in raw.items()}

    def _states(self, scope: str, now: int) -> list[RuleState]:
        counts = self._counts(scope)
        return [RuleState(p, *counts.get(p.rule.id, (0, 0)), now) for p in self._placed(scope)]

    def _placed(self, scope: str) -> list[Placed]:
        raw = self.store.get_meta(LIST_PREFIX + scope)
        if not raw:
            return []
        placed = self._parsed.get(raw)
        if placed is None:
            if len(self._parsed) > 256:  # bounded: lists change rarely
                self._parsed.clear()
            placed = [
                Placed(
                    item["rule"],
                    int(item["added_at"]),
                    parse_fault(item["rule"], "fault", self.policy),
                )
                for item in json.loads(raw)
            ]
            self._parsed[raw] = placed
        return placed
