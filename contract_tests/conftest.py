"""Fixtures of the kit's suites. Options and reporting live in contract_tests/plugin.py."""

from __future__ import annotations

import pytest

from contract_tests import session
from contract_tests.session import Kit


@pytest.fixture(scope="session")
def kit() -> Kit:
    return session.current()


# Cheap, deterministic rules first: a capped run (the live default) spends its budget there.
# The lifecycle drains every OA's webhooks: it runs before conformance may point the demo OA's
# webhook at made-up URLs, which a drain would then retry.
ORDER = (
    "test_rules",
    "test_listing",
    "test_lifecycle",
    "test_conformance",
    "test_stateful",
    "test_model",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = getattr(getattr(item, "module", None), "__name__", "").rpartition(".")[2]
        return ORDER.index(name) if name in ORDER else len(ORDER)

    items.sort(key=rank)
    for item in items:
        _name_by_operation(item)


def _name_by_operation(item: pytest.Item) -> None:
    """Under pytest 9, schemathesis gives every operation's test the same node id; add the
    operation, so that the summary and JUnit XML say which one failed."""
    label = getattr(item, "operation_label", None)
    if not label or item.nodeid.endswith(f"[{label}]"):
        return
    node_id = getattr(item, "_id", None)
    if node_id is not None and hasattr(node_id, "with_params"):
        setattr(item, "_id", node_id.with_params(label))  # noqa: B010  (a private field)
