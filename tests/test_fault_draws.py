"""The seeded draws behind fault rules: the same seed gives the same draws, and the delay
distributions have the percentiles their settings name (over many draws, no clock involved)."""

from __future__ import annotations

import math

import pytest

from mock_server.domain.faults import FIXED, LOGNORMAL, UNIFORM, Delay, draw

DRAWS = 20_000


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1]


def delays(delay: Delay, seed: int = 0) -> list[int]:
    return [delay.sample(draw(seed, "rule", n).delay) for n in range(DRAWS)]


def test_draws_depend_on_the_seed_the_rule_and_the_match_only() -> None:
    assert draw(7, "a", 3) == draw(7, "a", 3)
    assert len({draw(7, "a", 3), draw(8, "a", 3), draw(7, "b", 3), draw(7, "a", 4)}) == 4
    fired = [draw(0, "flaky", n).fires < 0.3 for n in range(DRAWS)]
    assert abs(sum(fired) / DRAWS - 0.3) < 0.01


@pytest.mark.parametrize(
    ("delay", "p50", "p99"),
    [
        (Delay(FIXED, 250), 250, 250),
        (Delay(UNIFORM, 100, 300), 200, 298),
        (Delay(LOGNORMAL, 30, 200, cap=3_600_000), 30, 200),
        (Delay(LOGNORMAL, 500, 5000, cap=3_600_000), 500, 5000),
    ],
)
def test_delays_have_the_percentiles_of_their_setting(delay: Delay, p50: int, p99: int) -> None:
    drawn = delays(delay)
    assert percentile(drawn, 0.5) == pytest.approx(p50, rel=0.03)
    assert percentile(drawn, 0.99) == pytest.approx(p99, rel=0.06)
    assert min(drawn) >= (delay.a if delay.kind != LOGNORMAL else 0)


def test_a_lognormal_tail_is_cut_at_the_largest_delay() -> None:
    drawn = delays(Delay(LOGNORMAL, 1000, 3_000_000, cap=3_600_000))
    assert max(drawn) == 3_600_000
