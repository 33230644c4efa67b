"""Scenario rules: where they are kept and in which order they are tried.

Order: the shop's own rules, then the global rules (a scenario file at start-up, replaced by
PUT /_sandbox/rules), then the built-in magic phones. Rules set at run time live in the store, so
every worker on one SQLite file sees the same ones. Rules are kept as the documents they were
given in (so they read back as written) and parsed once per distinct document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mock_server.domain.behaviour import Rule
from mock_server.domain.errors import InvalidField
from mock_server.domain.ports import MetaStore

GLOBAL = "rules:global"
SHOP_PREFIX = "rules:shop:"
RuleDocument = Mapping[str, Any]


def shop_key(shop_id: int) -> str:
    return f"{SHOP_PREFIX}{shop_id}"


def parse_rules(documents: Sequence[RuleDocument], field: str) -> list[Rule]:
    """Rules from their documents; a pattern that is no regular expression is InvalidField."""
    rules = []
    for n, item in enumerate(documents):
        try:
            rules.append(Rule.from_document(item))
        except re.error as exc:
            problem = f"is not a regular expression: {exc}"
            raise InvalidField(f"{field}[{n}].pattern", problem) from None
    return rules


class RuleBook:
    def __init__(self, store: MetaStore, magic_phones: Sequence[RuleDocument]) -> None:
        self.store = store
        self.magic_phones = list(magic_phones)
        self._magic_raw = json.dumps(self.magic_phones)
        self._parsed: dict[str, list[Rule]] = {}
        parse_rules(self.magic_phones, "magic phones")

    def set_rules(self, shop_id: int | None, documents: Sequence[RuleDocument]) -> None:
        parse_rules(documents, "rules")
        key = GLOBAL if shop_id is None else shop_key(shop_id)
        keep = bool(documents) or shop_id is None
        self.store.set_meta(key, json.dumps(list(documents)) if keep else None)

    def tables(self) -> tuple[dict[int, list[Any]], list[Any], list[Any]]:
        """(rules by shop id, global rules, magic phones), as documents."""
        shops = {
            int(name.removeprefix(SHOP_PREFIX)): json.loads(raw)
            for name, raw in self.store.meta_items(SHOP_PREFIX)
        }
        return shops, json.loads(self.store.get_meta(GLOBAL) or "[]"), self.magic_phones

    def rule_sets(self, shop_id: int) -> list[tuple[str, Sequence[Rule]]]:
        sets = [
            ("shop", self._rules(self.store.get_meta(shop_key(shop_id)))),
            ("global", self._rules(self.store.get_meta(GLOBAL))),
            ("magic", self._rules(self._magic_raw)),
        ]
        return [(name, rules) for name, rules in sets if rules]

    def _rules(self, raw: str | None) -> list[Rule]:
        if not raw:
            return []
        rules = self._parsed.get(raw)
        if rules is None:
            if len(self._parsed) > 256:  # bounded: rule sets change rarely
                self._parsed.clear()
            rules = [Rule.from_document(item) for item in json.loads(raw)]
            self._parsed[raw] = rules
        return rules
