"""Model-based: a Hypothesis state machine keeps its own account of a fresh shop's consents and
checks listings against it: the ten filters in any combination, each sort order, every page
walked forward (after/next) and backward (before/prev from `"."`), and that a second shop's
consents, made with the same phones and OA, never show.

States (status, reply_status, delivery_status, updated_at) are read back, not predicted: before
each check the machine lists the whole shop and takes the states from there, and the filtered
listings must agree with that read. The clock is frozen for the run, so no state moves between
the read and the check; what the model owns outright (ids, OA, call type, reason, created_at) is
compared with what RequestConsent answered. Needs a sandbox (the control API makes the shops and
moves the clock), so it does not run against the live API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from contract_tests.model import PHONES, SORTS, instant, matches, phone_forms, zero_values
from contract_tests.session import current
from contract_tests.shops import TwoShops

GAPS = ("", "1s", "90s", "1h", "25h")  # clock moves between requests; "" keeps the same instant
LIMITS = (1, 2, 3, 5, 0, None, 101)
SMALL = st.integers(0, 10)


class ConsentModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.kit = current()
        self.shops = TwoShops(self.kit)
        self.zeros = zero_values(self.kit.facts)

    @initialize(
        batch=st.lists(
            st.tuples(st.sampled_from(PHONES), SMALL, SMALL, SMALL, SMALL, st.sampled_from(GAPS)),
            min_size=3,
            max_size=8,
        )
    )
    def start_with_a_few(self, batch: list[tuple[str, int, int, int, int, str]]) -> None:
        """Every run starts with data in both shops, some of it made in the same second."""
        for phone, form, call, reason, oa, gap in batch:
            self.shops.request(self.shops.body(phone, form, call, reason, oa))
            if gap:
                self.advance_clock(gap)
        self.shops.request_elsewhere(self.shops.body(batch[0][0], 0, 0, 0, 0))

    @rule(phone=st.sampled_from(PHONES), form=SMALL, call=SMALL, reason=SMALL, oa=SMALL)
    def request_consent(self, phone: str, form: int, call: int, reason: int, oa: int) -> None:
        self.shops.request(self.shops.body(phone, form, call, reason, oa), partner=oa > 5)

    @rule(phone=st.sampled_from(PHONES), call=SMALL, reason=SMALL)
    def other_shop_requests(self, phone: str, call: int, reason: int) -> None:
        self.shops.request_elsewhere(self.shops.body(phone, 0, call, reason, 0))

    @rule(step=st.sampled_from([g for g in GAPS if g]))
    def advance_clock(self, step: str) -> None:
        self.kit.control.move_clock(advance=step)

    @rule(data=st.data())
    def list_and_compare(self, data: st.DataObject) -> None:
        states = self.shops.read_back()
        filter_ = data.draw(self._filters(states), label="filter")
        sort = data.draw(st.sampled_from(SORTS), label="sort")
        asked = data.draw(st.sampled_from(LIMITS), label="limit")
        partner = data.draw(st.booleans(), label="partner")
        expected = [c for c in states.values() if matches(c, filter_, self.zeros)]
        self.shops.check(expected, filter_, sort, asked, partner, self.zeros)

    def teardown(self) -> None:
        # Every run ends with one look at the whole shop, whatever the rules drew.
        self.shops.read_back()

    def _filters(self, states: dict[str, dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        facts, known = self.kit.facts, list(states.values())
        instants = [instant(c["created_at"]) for c in known]
        moments = st.builds(
            lambda at, shift: (at + timedelta(seconds=shift)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            st.sampled_from(instants or [instant(self.kit.options.clock_start)]),
            st.sampled_from([-1, 0, 0, 1]),
        )

        def listed(schema: str) -> st.SearchStrategy[Any]:
            return st.sampled_from(facts.listed_values(facts.schemas[schema]) or [None])

        values: dict[str, st.SearchStrategy[Any]] = {
            "call_type": listed("CallTypeOrZero"),
            "reason_code": listed("ReasonCodeOrZero"),
            "status": listed("StatusOrZero"),
            "reply_status": listed("ReplyStatusOrZero"),
            "is_charged": st.sampled_from([True, False, None]),
            "oa_id": st.sampled_from([*self.shops.oas, int(self.shops.oas[1]), "0"]),
            "user_id": st.sampled_from([c["user_id"] for c in known] or ["1"]),
            "phone": st.builds(
                lambda p, f: phone_forms(p)[f], st.sampled_from(PHONES), st.integers(0, 2)
            ),
            "date_from": moments,
            "date_to": moments,
        }
        return st.fixed_dictionaries({}, optional=values)


def test_model() -> None:
    kit = current()
    if not kit.has_control_api:
        pytest.skip("needs a sandbox: its control API makes the shops and moves the clock")
    clock = kit.control.clock()
    kit.control.move_clock(rate=0)
    profile = kit.profile
    try:
        hypothesis.stateful.run_state_machine_as_test(
            ConsentModel,
            settings=profile.hypothesis_settings(profile.model_runs, profile.model_steps),
        )
    finally:
        kit.control.move_clock(rate=clock["rate"])
