"""Rules every run checks the same way, whatever the generators draw: undocumented enum values
are refused, the page limit is clamped, and errors are Twirp's. They run first (see conftest),
so a capped live run spends its first requests here."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contract_tests.audit import DOCUMENTED_ENUM, TWIRP_STATUS, audit_error, audit_page
from contract_tests.bodies import valid_body, with_value
from contract_tests.schema import unrunnable
from contract_tests.session import Kit
from contract_tests.specfacts import Operation, facts

UNDOCUMENTED = "undocumented-value"
NOT_JSON = b"{not json"
ENUM_FIELDS = [
    pytest.param(op, path, values, id=f"{op.operation_id}:{path}")
    for op in facts().operations
    for path, values in facts().enum_fields(op).items()
]
PAGED = [pytest.param(op, id=op.operation_id) for op in facts().operations if facts().pages(op)]
ALL = [pytest.param(op, id=op.operation_id) for op in facts().operations]


def runnable(kit: Kit, op: Operation) -> None:
    reason = unrunnable(kit, op)
    if reason:
        pytest.skip(reason)


def post(kit: Kit, op: Operation, key: str | None = None, **kwargs: Any) -> httpx.Response:
    if key is None:
        key = kit.wire.shop_key if op.partner else kit.wire.api_key
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return kit.http.post(op.path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@pytest.mark.parametrize(("op", "field", "values"), ENUM_FIELDS)
def test_undocumented_enum_value_is_refused(
    kit: Kit, op: Operation, field: str, values: list[Any]
) -> None:
    runnable(kit, op)
    body = with_value(valid_body(kit, op), field, UNDOCUMENTED)
    response = post(kit, op, json=body)
    if response.status_code != 400:
        raise AssertionError(
            f"[{DOCUMENTED_ENUM}] {op.label} took {field}={UNDOCUMENTED!r}, a value the spec does "
            f"not list ({', '.join(map(repr, values))}): answered {response.status_code}, "
            "not 400 invalid_argument"
        )
    problems = list(audit_error(kit.facts, response.status_code, json_or_none(response)))
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("asked", ["maximum + 1", "a million"])
@pytest.mark.parametrize("op", PAGED)
def test_page_limit_is_clamped(kit: Kit, op: Operation, asked: str) -> None:
    runnable(kit, op)
    limit = kit.facts.max_limit + 1 if asked == "maximum + 1" else 10**6
    body = {"paging": {"limit": limit}}
    response = post(kit, op, json=body)
    assert response.status_code == 200, f"{op.label} answered {response.status_code} to {body}"
    problems = audit_page(kit.facts, op, body, response.json())
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("op", PAGED)
def test_a_full_page_holds_the_maximum(kit: Kit, op: Operation) -> None:
    """More consents than fit on a page: the page is full, the next holds the rest."""
    runnable(kit, op)
    if not kit.has_control_api:
        pytest.skip("needs a sandbox to fill a fresh shop")
    shop = kit.wire.for_shop(kit.control.create_shop())
    made = kit.facts.max_limit + 1
    for n in range(made):
        body = {**valid_body(kit, kit.facts.operation("RequestConsent")), "oa_id": shop.oa_id}
        shop.call("RequestConsent", {**body, "phone": f"09{n:08d}"})
    pages = list(shop.walk({"paging": {"limit": made + 5}}, partner=op.partner))
    sizes = [len(page[kit.facts.items_field(op)]) for page in pages]
    ids = [c["id"] for page in pages for c in page[kit.facts.items_field(op)]]
    for page in pages[:1]:
        problems = audit_page(kit.facts, op, {"paging": {"limit": made + 5}}, page)
        assert not problems, "\n".join(map(str, problems))
    assert sizes == [kit.facts.max_limit, 1] and len(set(ids)) == made, (
        f"[paging] {made} consents, limit {made + 5}: pages of {sizes}, {len(set(ids))} distinct"
    )


@pytest.mark.parametrize("problem", ["no key", "a wrong key", "a body that is not JSON"])
@pytest.mark.parametrize("op", ALL)
def test_errors_are_twirp(kit: Kit, op: Operation, problem: str) -> None:
    runnable(kit, op)
    body = valid_body(kit, op)
    if problem == "a body that is not JSON":
        refusal = kit.guard.refusal(op.method, op.path, NOT_JSON)
        if refusal:
            pytest.skip(refusal)
        response = post(kit, op, content=NOT_JSON, headers={"Content-Type": "application/json"})
        expected = 400
    else:
        key = "" if problem == "no key" else "0:not-a-key-of-this-api"
        response = post(kit, op, key=key, json=body)
        expected = 401
    problems = [
        str(p) for p in audit_error(kit.facts, response.status_code, json_or_none(response))
    ]
    if response.status_code != expected:
        problems.append(
            f"[{TWIRP_STATUS}] {op.label} with {problem}: answered {response.status_code}, "
            f"expected {expected}"
        )
    assert not problems, "\n".join(problems)
