"""Scenario rules: getRules, putRules, and reading a scenario file (YAML or JSON): its rules,
and its fault rules (which services/faults.py keeps)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mock_server.domain.errors import InvalidField
from mock_server.domain.fault_book import with_ids
from mock_server.domain.fault_rules import parse_faults
from mock_server.domain.faults import FaultPolicy
from mock_server.domain.scenarios import RuleBook, RuleDocument, parse_rules
from mock_server.spec.document import SAFE_LOADER


@dataclass(frozen=True)
class RuleTables:
    shops: dict[int, list[Any]]
    global_rules: list[Any]
    magic_phones: list[Any]


@dataclass(frozen=True)
class ScenarioFile:
    """What a scenario file holds: scenario rules, fault rules, or both (None: not given)."""

    rules: list[dict[str, Any]] | None
    faults: list[dict[str, Any]] | None


def load_scenario_file(
    path: Path, validate: Callable[[Any], None], fault_policy: FaultPolicy | None = None
) -> ScenarioFile:
    """A scenario file, checked by `validate` (the spec's ScenarioFile) and parsed (its faults
    with `fault_policy`); ValueError naming the file and the problem."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read scenario file {path}: {exc}") from None
    try:
        validate(data)
        rules: list[dict[str, Any]] | None = data.get("rules")
        faults: list[dict[str, Any]] | None = data.get("faults")
        if rules is not None:
            parse_rules(rules, "rules")
        if faults is not None:
            if fault_policy is None:
                raise InvalidField("faults", "are not read from this file")
            parse_faults(with_ids(faults), "faults", fault_policy)
    except InvalidField as exc:
        raise ValueError(f"scenario file {path}: {exc.message}") from None
    return ScenarioFile(rules, faults)


def read_scenario_file(path: Path, validate: Callable[[Any], None]) -> list[dict[str, Any]]:
    """The scenario rules of a file (see load_scenario_file)."""
    return load_scenario_file(path, validate).rules or []


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
