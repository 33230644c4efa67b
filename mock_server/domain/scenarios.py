"""Scenario rules: where they come from and in which order they are tried.

Order: the shop's own rules, then the global rules (a scenario file at start-up, replaced by
PUT /_sandbox/rules), then the built-in magic phones. Rules set at run time live in the store, so
every worker on one SQLite file sees the same ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from mock_server.domain.behaviour import FAILURES, Rule
from mock_server.spec import Spec, data_dir
from mock_server.store.base import Store
from mock_server.twirp import TwirpError, invalid_argument
from mock_server.validation import BodyValidator

GLOBAL = "rules:global"
MAGIC_PHONES = "magic-phones.yaml"


def shop_key(shop_id: int) -> str:
    return f"rules:shop:{shop_id}"


class Scenarios:
    def __init__(self, store: Store, control: Spec, use_magic_phones: bool) -> None:
        self.store = store
        outcomes = set(control.schema("ScenarioRule")["properties"]["outcome"]["enum"])
        if not set(FAILURES) <= outcomes:
            raise RuntimeError("the control spec's ScenarioRule outcomes lack a failure outcome")
        self._file_validator = BodyValidator(control.document, control.schema("ScenarioFile"))
        self.magic_phones: list[dict[str, Any]] = (
            self.read_file(data_dir("fixtures") / "scenarios" / MAGIC_PHONES)
            if use_magic_phones
            else []
        )
        self._magic_raw = json.dumps(self.magic_phones)
        self._parsed: dict[str, list[Rule]] = {}
        parse_rules(self.magic_phones, "magic phones")

    def read_file(self, path: Path) -> list[dict[str, Any]]:
        """The rules of a scenario file, checked against the control spec; ValueError if bad."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read scenario file {path}: {exc}") from None
        try:
            self._file_validator.validate(data)
        except Exception as exc:  # a TwirpError naming the field
            raise ValueError(f"scenario file {path}: {exc}") from None
        rules: list[dict[str, Any]] = data["rules"]
        try:
            parse_rules(rules, "rules")
        except TwirpError as exc:
            raise ValueError(f"scenario file {path}: {exc.msg}") from None
        return rules

    def set_rules(self, shop_id: int | None, rules: list[dict[str, Any]]) -> None:
        parse_rules(rules, "rules")
        key = GLOBAL if shop_id is None else shop_key(shop_id)
        self.store.set_meta(key, json.dumps(rules) if rules or shop_id is None else None)

    def tables(self) -> dict[str, Any]:
        shops = {
            name.removeprefix("rules:shop:"): json.loads(raw)
            for name, raw in self.store.meta_items("rules:shop:")
        }
        return {
            "shops": shops,
            "global": json.loads(self.store.get_meta(GLOBAL) or "[]"),
            "magic_phones": self.magic_phones,
        }

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
            rules = [Rule.from_wire(item) for item in json.loads(raw)]
            self._parsed[raw] = rules
        return rules


def parse_rules(items: list[dict[str, Any]], argument: str) -> list[Rule]:
    """Rules from their wire form; a pattern that is no regular expression is invalid_argument."""
    rules = []
    for n, item in enumerate(items):
        try:
            rules.append(Rule.from_wire(item))
        except re.error as exc:
            raise invalid_argument(
                f"{argument}[{n}].pattern", f"is not a regular expression: {exc}"
            ) from None
    return rules
