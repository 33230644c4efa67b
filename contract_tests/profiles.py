"""How hard each suite works. `quick` is for pre-commit (seconds against the in-process sandbox)
and derandomized, so what it finds once it finds again; `default` explores more, with fresh
random data each run (about a minute in-process)."""

from __future__ import annotations

from dataclasses import dataclass

import hypothesis


@dataclass(frozen=True)
class Profile:
    name: str
    # Fuzzing examples per operation (schemathesis also runs the spec's examples and, with
    # `coverage`, a case for each keyword of each field, which do not count here).
    conformance_examples: int
    coverage: bool
    # Scenarios and steps of the schemathesis state machine that follows the spec's links.
    stateful_scenarios: int
    stateful_steps: int
    # Runs and steps of the model-based state machine.
    model_runs: int
    model_steps: int
    derandomize: bool
    # Shrinking makes a failure minimal, at the cost of time; pre-commit wants the verdict.
    shrink: bool

    def hypothesis_settings(self, examples: int, steps: int) -> hypothesis.settings:
        phases = [p for p in hypothesis.Phase if p is not hypothesis.Phase.explain]
        return hypothesis.settings(
            max_examples=examples,
            stateful_step_count=steps,
            derandomize=self.derandomize,
            phases=[p for p in phases if self.shrink or p is not hypothesis.Phase.shrink],
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )


PROFILES = {
    "quick": Profile("quick", 8, False, 4, 6, 6, 8, derandomize=True, shrink=False),
    "default": Profile("default", 300, True, 100, 15, 200, 30, derandomize=False, shrink=True),
}
