"""Scenario rules: getRules, putRules, and reading a scenario file (YAML or JSON)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mock_server.domain.errors import InvalidField
from mock_server.domain.scenarios import RuleBook, RuleDocument, parse_rules
from mock_server.spec.document import SAFE_LOADER


@dataclass(frozen=True)
class RuleTables:
    shops: dict[int, list[Any]]
    global_rules: list[Any]
    magic_phones: list[Any]


def read_scenario_file(path: Path, validate: Callable[[Any], None]) -> list[dict[str, Any]]:
    """The rules of a scenario file, checked by `validate` (the spec's ScenarioFile) and
    parsed; ValueError naming the file and the problem."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read scenario file {path}: {exc}") from None
    try:
        validate(data)
        rules: list[dict[str, Any]] = data["rules"]
        parse_rules(rules, "rules")
    except InvalidField as exc:
        raise ValueError(f"scenario file {path}: {exc.message}") from None
    return rules


class ScenarioService:
    def __init__(self, rules: RuleBook, file_rules: Sequence[RuleDocument] | None) -> None:
        self.rules = rules
        self.file_rules = file_rules  # a scenario file's rules, set again after a reset

    def start(self) -> None:
        if self.file_rules is not None:
            self.rules.set_rules(None, self.file_rules)

    def get_rules(self) -> RuleTables:
        shops, global_rules, magic = self.rules.tables()
        return RuleTables(shops, global_rules, magic)

    def put_rules(self, shop_id: int | None, documents: Sequence[RuleDocument]) -> RuleTables:
        self.rules.set_rules(shop_id, documents)
        return self.get_rules()
