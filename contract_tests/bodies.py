"""Request bodies the kit writes itself: the spec's examples, made to fit the target."""

from __future__ import annotations

import copy
from typing import Any

from contract_tests.session import Kit
from contract_tests.specfacts import Operation


def valid_body(kit: Kit, op: Operation) -> dict[str, Any]:
    """The spec's example, with the shop's OA and, on a live target, a test phone."""
    body = kit.facts.example(op)
    for name in kit.facts.oa_fields(op):
        body[name] = kit.options.owned_oa
    if kit.guard.live and "phone" in body and kit.options.test_phones:
        body["phone"] = sorted(kit.options.test_phones)[0]
    return body


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the dotted `path` set to `value`."""
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = changed
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    return changed
