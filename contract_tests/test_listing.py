"""Listings over fixed data, so that every run (the quick one too) checks each rule at least once:
each filter of the spec alone, each sort order walked forward and backward in small pages, and
a neighbour shop's consents kept out. The model test (test_model.py) combines them at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contract_tests.model import PHONES, SORTS, matches, phone_forms, zero_values
from contract_tests.session import Kit
from contract_tests.shops import TwoShops
from contract_tests.specfacts import facts

# (phone, form, call, reason, OA, clock move after): repeats, same-second pairs, a magic phone
# that agrees within a minute and one that fails at once, and a day that lets waiting ones lapse.
ROWS = [
    (PHONES[0], 0, 0, 0, 0, "90s"),
    (PHONES[1], 1, 1, 1, 1, ""),
    (PHONES[2], 2, 2, 2, 0, "1h"),
    (PHONES[3], 0, 0, 3, 1, "90s"),
    (PHONES[0], 1, 1, 4, 1, ""),
    (PHONES[1], 2, 2, 0, 0, "25h"),
    (PHONES[0], 0, 0, 1, 0, "1s"),
    (PHONES[2], 1, 1, 2, 1, ""),
]
FILTERS = list(facts().schemas["ConsentFilter"]["properties"])


@pytest.fixture(scope="module")
def shops(kit: Kit) -> Iterator[TwoShops]:
    if not kit.has_control_api:
        pytest.skip("needs a sandbox: its control API makes the shops and moves the clock")
    rate = kit.control.clock()["rate"]
    kit.control.move_clock(rate=0)
    made = TwoShops(kit)
    for phone, form, call, reason, oa, gap in ROWS:
        made.request(made.body(phone, form, call, reason, oa))
        if gap:
            kit.control.move_clock(advance=gap)
    made.request_elsewhere(made.body(PHONES[0], 0, 0, 0, 0))
    made.request_elsewhere(made.body(PHONES[1], 1, 1, 1, 0))
    yield made
    kit.control.move_clock(rate=rate)


def telling_value(name: str, states: list[dict[str, Any]], shops: TwoShops) -> Any:
    """A value of filter `name` that some consents pass and others not, or else none do, so
    that a server ignoring the filter is caught."""
    kit = shops.kit
    first, middle = states[0], states[len(states) // 2]
    fixed = {
        "oa_id": shops.oas[1],
        "user_id": first["user_id"],
        "phone": phone_forms(PHONES[0])[2],
        "date_from": middle["created_at"],
        "date_to": middle["created_at"],
    }
    if name in fixed:
        return fixed[name]
    if name == "is_charged":
        options: list[Any] = [True, False]
    else:
        node = kit.facts.schemas["ConsentFilter"]["properties"][name]
        options = [
            v for v in kit.facts.listed_values(node) or [] if v != zero_values(kit.facts).get(name)
        ]
    if not options:
        raise AssertionError(f"no value to try for filter {name!r}: teach telling_value")
    seen = [c.get(name) for c in states]
    partial = [v for v in options if 0 < seen.count(v) < len(seen)]
    absent = [v for v in options if v not in seen]
    return (partial or absent or options)[0]


@pytest.mark.parametrize("name", FILTERS)
def test_filter_alone(shops: TwoShops, name: str) -> None:
    zeros = zero_values(shops.kit.facts)
    states = list(shops.read_back().values())
    filter_ = {name: telling_value(name, states, shops)}
    expected = [c for c in states if matches(c, filter_, zeros)]
    shops.check(expected, filter_, "-created_at", None, partner=False, zeros=zeros)


@pytest.mark.parametrize("limit", [2, 3])
@pytest.mark.parametrize("sort", SORTS)
def test_paging_walks(shops: TwoShops, sort: str, limit: int) -> None:
    zeros = zero_values(shops.kit.facts)
    states = list(shops.read_back().values())
    shops.check(states, {}, sort, limit, partner=limit == 3, zeros=zeros)
