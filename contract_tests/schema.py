"""The spec as a schemathesis schema, bound to the kit's gateway and tuned by the run's options."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig

from contract_tests.checks import OTHER_BUILTIN_CHECKS
from contract_tests.session import Kit
from contract_tests.specfacts import INT64_INPUT_REF, OA_ID_REF, Operation

INT64_MAX = 2**63 - 1


def build_schema(kit: Kit) -> Any:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(kit.facts.document), config=_config(kit))
    schema.app = kit.gateway
    kit.gateway.fit_case = _fitter(kit)
    return schema


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    # schemathesis runs `before_call` hooks for every schema; this is the one point every case
    # passes (generated, the spec's examples, stateful steps) before it is sent. The case's
    # schema is bound to a kit's gateway, which knows how to fit it to its target.
    fit = getattr(case.operation.schema.app, "fit_case", None)
    if fit is not None:
        fit(case)


def auth_headers(kit: Kit, op: Operation) -> dict[str, str]:
    key = kit.wire.shop_key if op.partner else kit.wire.api_key
    return {"Authorization": f"Bearer {key}"}


def unrunnable(kit: Kit, op: Operation) -> str | None:
    """Why `op` cannot run against this target, or None."""
    if op.writes and not kit.guard.writes_allowed:
        return "writes to a live API run only with --allow-writes and --test-phone"
    if op.writes and kit.guard.live:
        if kit.facts.oa_fields(op) and not kit.options.owned_oa:
            return "writes to a live API need --oa-id, an OA the shop owns"
        if "phone" not in (kit.facts.resolve(op.request_schema) or {}).get("properties", {}):
            return "a live write must carry one of the --test-phone numbers, and this one has none"
    if not (kit.wire.shop_key if op.partner else kit.wire.api_key):
        return f"no {'--partner-key' if op.partner else '--api-key'} given"
    return None


def _config(kit: Kit) -> SchemathesisConfig:
    profile = kit.profile
    data: dict[str, Any] = {
        "generation": {
            "mode": "all",
            "max-examples": profile.conformance_examples,
            "deterministic": profile.derandomize,
            "no-shrink": not profile.shrink,
            # The kit sends the keys itself; `ignored_auth` probes without them.
            "with-security-parameters": False,
            "database": "none",
        },
        "phases": {
            # Twirp answers a wrong method with bad_route (404), not 405: nothing to probe.
            "coverage": {"enabled": profile.coverage, "unexpected-methods": []},
            # Links carry values from one answer to the next request; negative data there would
            # only be undone by them. Conformance covers negative data.
            "stateful": {"max-steps": profile.stateful_steps, "generation": {"mode": "positive"}},
        },
        "checks": {name: {"enabled": False} for name in OTHER_BUILTIN_CHECKS},
    }
    writes = [op.operation_id for op in kit.facts.operations if op.writes]
    if kit.guard.live:
        # The coverage phase tries every keyword of every field: hundreds of requests a
        # capped live run cannot afford. Live writes carry only valid data, and only the
        # user's test phones (see _fitter).
        data["phases"]["coverage"]["enabled"] = False
        if writes:
            data["operations"] = [
                {"include-operation-id": writes, "generation": {"mode": "positive"}},
            ]
    return SchemathesisConfig.from_dict(data)


def _fitter(kit: Kit) -> Callable[[Any], None]:
    """Make generated data meaningful for this server without changing whether it is valid
    (a value is swapped only when it and its replacement both pass the spec's schema):

    - an OA id becomes one the shop owns (another shop's OA is a documented 404);
    - an int64 written as a 19-digit string above 2^63-1 (the spec's pattern cannot say so, and
      a server refuses it) becomes the largest int64;
    - a cursor becomes the first page (a made-up cursor is refused);
    - a URL becomes empty, so that no server posts webhooks to generated addresses;
    - on a live target, a phone becomes one of the test phones.
    """
    facts = kit.facts
    int64_refs = {OA_ID_REF, INT64_INPUT_REF}
    phones = sorted(kit.options.test_phones)

    def swap(body: dict[str, Any], name: str, node: Any, new: Any) -> None:
        if name in body and facts.valid(node, body[name]) and facts.valid(node, new):
            body[name] = new

    def fit_int64s(schema: Any, body: dict[str, Any]) -> None:
        for name, node in (facts.resolve(schema) or {}).get("properties", {}).items():
            value = body.get(name)
            if node.get("$ref") in int64_refs and isinstance(value, str) and value.isdigit():
                swap(body, name, node, str(min(int(value), INT64_MAX)))
            elif isinstance(value, dict):
                fit_int64s(node, value)

    def fit(case: Any) -> None:
        op = facts.by_path(case.path)
        body = case.body
        if op is None or not isinstance(body, dict):
            return
        fit_int64s(op.request_schema, body)
        props = (facts.resolve(op.request_schema) or {}).get("properties", {})
        for name in facts.oa_fields(op):
            if kit.options.owned_oa:
                swap(body, name, props[name], kit.options.owned_oa)
        paging = body.get("paging")
        if isinstance(paging, dict):
            cursors = facts.resolve(props["paging"])["properties"]
            swap(paging, "after", cursors["after"], ".")
            swap(paging, "before", cursors["before"], "")
        for name in facts.url_fields(op):
            swap(body, name, props[name], "")
        if kit.guard.live and phones and "phone" in props:
            # Which test phone follows from the generated one, so that runs vary between them.
            chosen = phones[len(str(body.get("phone"))) % len(phones)]
            swap(body, "phone", props["phone"], chosen)

    return fit
