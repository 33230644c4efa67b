"""Conformance from the spec: positive and negative data for every operation, shop and partner
routes, checked by schemathesis' checks and the API's own (contract_tests/checks.py)."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests import checks as _checks  # noqa: F401  (registers the API's own checks)
from contract_tests.schema import auth_headers, build_schema, unrunnable
from contract_tests.session import current

schema = build_schema(current())


@schema.parametrize()  # type: ignore[untyped-decorator]
def test_conformance(case: Any) -> None:
    kit = current()
    op = kit.facts.by_path(case.path)
    assert op is not None
    reason = unrunnable(kit, op)
    if reason:
        pytest.skip(reason)
    case.call_and_validate(headers=auth_headers(kit, op))
