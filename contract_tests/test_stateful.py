"""Stateful runs along the spec's links: a consent RequestConsent creates is then found by
ListRequestConsent filtered by its OA and phone (links ShopListByPhone, PartnerListByPhone)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from contract_tests import checks as _checks  # noqa: F401  (registers the API's own checks)
from contract_tests.model import matches, zero_values
from contract_tests.schema import auth_headers, build_schema, unrunnable
from contract_tests.session import Kit, current

LINK_RULE = "link"
# Filters on what a consent's lifecycle changes: a listing may rightly disagree with the answer
# RequestConsent gave a moment before.
MUTABLE_FILTERS = {"status", "reply_status", "is_charged"}


def linked_calls(kit: Kit) -> type[Any] | None:
    """Schemathesis' state machine over the operations this target may run, with the kit's
    keys and the links' promise checked; None when no link can run."""
    skipped = [op.operation_id for op in kit.facts.operations if unrunnable(kit, op)]
    schema = build_schema(kit)
    if skipped:
        schema = schema.exclude(operation_id=skipped)
    try:
        base = schema.as_state_machine()
    except schemathesis.errors.NoLinksFound:
        return None

    class LinkedCalls(base):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            self.created: dict[str, dict[str, Any]] = {}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            op = kit.facts.by_path(case.path)
            assert op is not None
            return {"headers": auth_headers(kit, op)}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            op = kit.facts.by_path(case.path)
            if op is not None and op.writes and response.status_code == 200:
                answer = response.json()
                if isinstance(answer, dict) and "id" in answer:
                    self.created[case.id] = answer

        def step(self, input: Any) -> Any:
            output = super().step(input)
            transition = input.transition
            if transition is not None and transition.parent_id in self.created:
                check_listed(kit, self.created[transition.parent_id], output, transition.id)
            return output

    return LinkedCalls


def check_listed(kit: Kit, created: dict[str, Any], output: Any, link: str) -> None:
    """The link's promise: the new consent is listed, unless the request filters on more than
    the link set and the consent does not pass those filters, or on states that may move."""
    response = output.response
    body: dict[str, Any] = output.case.body if isinstance(output.case.body, dict) else {}
    filter_: dict[str, Any] = body["filter"] if isinstance(body.get("filter"), dict) else {}
    if response.status_code != 200 or set(filter_) & MUTABLE_FILTERS:
        return  # the status checks have judged this answer already, or states may have moved
    try:
        if not matches(created, filter_, zero_values(kit.facts)):
            return
    except ValueError:
        return  # a value the model cannot read (e.g. a leap second): no verdict
    op = kit.facts.by_path(output.case.path)
    assert op is not None
    items = kit.facts.items_field(op)
    listed = [c.get("id") for c in response.json().get(items, [])]
    if created["id"] not in listed and response.json()["paging"].get("next"):
        listed = [c["id"] for page in kit.wire.walk(body, partner=op.partner) for c in page[items]]
    if created["id"] not in listed:
        raise AssertionError(
            f"[{LINK_RULE} {link}] consent {created['id']} made by RequestConsent is not listed by "
            f"{op.name} filtered by its oa_id and phone (filter {filter_!r})"
        )


def test_links() -> None:
    kit = current()
    machine = linked_calls(kit)
    if machine is None:
        reasons = {unrunnable(kit, op) for op in kit.facts.operations if op.writes} - {None}
        pytest.skip("no link can run against this target: " + "; ".join(sorted(map(str, reasons))))
    profile = kit.profile
    machine.run(
        settings=profile.hypothesis_settings(profile.stateful_scenarios, profile.stateful_steps)
    )
