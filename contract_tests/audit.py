"""Read one answer against the spec and list what breaks the API's own rules.

The same findings feed the schemathesis checks (which fail a test) and the drift report (which
lists them). Each finding names its rule, so a failure says which rule was broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contract_tests.specfacts import INT64_REF, Operation, SpecFacts

TWIRP_ENVELOPE = "twirp-envelope"
TWIRP_STATUS = "twirp-status"
UNDOCUMENTED_ERROR_CODE = "undocumented-error-code"
UNDOCUMENTED_STATUS = "undocumented-status"
INT64_AS_STRING = "int64-as-string"
DOCUMENTED_ENUM = "documented-enum"
UNDOCUMENTED_FIELD = "undocumented-field"
TYPE = "type"
PAGING_LIMIT = "paging-limit"
WEBHOOK_PAYLOAD = "webhook-payload"


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str  # a JSON path such as `consents[0].id`, or `status`
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.detail}"


def audit_answer(
    facts: SpecFacts, op: Operation, status: int, body: Any, request_body: Any
) -> list[Finding]:
    """Every finding for one answer of `op` to `request_body`."""
    if status >= 400:
        return list(audit_error(facts, status, body)) + refused_clamp(
            facts, op, status, request_body, body
        )
    if status != 200 or op.response_schema is None:
        return []
    found = list(walk(facts, op.response_schema, body, ""))
    if facts.pages(op):
        found += audit_page(facts, op, request_body, body)
    return found


def audit_webhook(facts: SpecFacts, event: Any) -> list[Finding]:
    """Whether a delivered webhook event is one the spec's `webhooks:` describes."""
    schemas = facts.webhooks()
    name = event.get("event_name") if isinstance(event, dict) else None
    if name not in schemas:
        return [Finding(WEBHOOK_PAYLOAD, "event_name", f"{name!r} is no event of the spec")]
    if facts.valid(schemas[name], event):
        return []
    return [Finding(WEBHOOK_PAYLOAD, str(name), f"does not match its spec schema: {event!r}")]


def audit_error(facts: SpecFacts, status: int, body: Any) -> Iterator[Finding]:
    """Twirp's envelope `{code, msg, meta}` and its code → status map (from the spec)."""
    if not (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and isinstance(body.get("msg"), str)
    ):
        yield Finding(
            TWIRP_ENVELOPE,
            "body",
            f"an error must be Twirp's {{code, msg, meta}}, got {_show(body)}",
        )
        return
    meta = body.get("meta", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        yield Finding(TWIRP_ENVELOPE, "meta", f"must be an object of strings, got {_show(meta)}")
    code = body["code"]
    expected = facts.status_by_code.get(code)
    if expected is None:
        yield Finding(
            UNDOCUMENTED_ERROR_CODE, "code", f"{code!r} is not a Twirp code the spec lists"
        )
    elif status != expected:
        yield Finding(
            TWIRP_STATUS,
            "status",
            f"Twirp sends code {code!r} with HTTP {expected} (spec TwirpErrorCode x-http-status), "
            f"got HTTP {status}",
        )


def refused_clamp(
    facts: SpecFacts, op: Operation, status: int, request_body: Any, body: Any = None
) -> list[Finding]:
    """A limit above the maximum must be clamped: refusing it is drift from the backend. A
    refusal that names another field (`meta.argument`) is about that field, not the limit; one
    of a limit beyond the schema's own `maximum` (int32) refuses invalid input."""
    meta = body.get("meta") if isinstance(body, dict) else None
    argument = meta.get("argument") if isinstance(meta, dict) else None
    if argument and argument not in ("paging", "paging.limit"):
        return []
    paging = request_body.get("paging") if isinstance(request_body, dict) else None
    asked = paging.get("limit") if isinstance(paging, dict) else None
    over = (
        isinstance(asked, int)
        and not isinstance(asked, bool)
        and facts.max_limit < asked <= facts.limit_maximum
    )
    if not (facts.pages(op) and over):
        return []
    return [
        Finding(
            PAGING_LIMIT,
            "paging.limit",
            f"limit {asked} was refused with HTTP {status}; above {facts.max_limit} the backend "
            f"clamps it to {facts.max_limit}",
        )
    ]


def audit_page(facts: SpecFacts, op: Operation, request_body: Any, body: Any) -> list[Finding]:
    """The limit rule: 0 or none means the default; above the maximum is clamped, not refused."""
    paging = request_body.get("paging") if isinstance(request_body, dict) else None
    asked = paging.get("limit") if isinstance(paging, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("paging"), dict):
        return []
    got = body["paging"].get("limit")
    found = []
    if asked is None or (isinstance(asked, int) and not isinstance(asked, bool) and asked >= 0):
        expected = min(asked, facts.max_limit) if asked else facts.default_limit
        if got != expected:
            found.append(
                Finding(
                    PAGING_LIMIT,
                    "paging.limit",
                    f"limit {asked!r} must answer paging.limit {expected} (0 or none means "
                    f"{facts.default_limit}; above {facts.max_limit} is clamped to "
                    f"{facts.max_limit}), got {got!r}",
                )
            )
    items = body.get(facts.items_field(op))
    cap = min(got, facts.max_limit) if isinstance(got, int) else facts.max_limit
    if isinstance(items, list) and len(items) > cap:
        found.append(
            Finding(PAGING_LIMIT, facts.items_field(op), f"{len(items)} items on a page of {cap}")
        )
    return found


def walk(facts: SpecFacts, schema: Any, value: Any, where: str) -> Iterator[Finding]:
    """Findings for `value` under `schema`: int64 as strings, enums, types, undocumented fields."""
    if isinstance(schema, dict) and schema.get("$ref") == INT64_REF and not isinstance(value, str):
        yield Finding(
            INT64_AS_STRING,
            where,
            f"int64 ids are written as decimal strings, got {_kind(value)} {_show(value)}",
        )
        return
    node = facts.resolve(schema)
    if not isinstance(node, dict):
        return
    allowed = facts.listed_values(node)
    if allowed is not None:
        if value not in allowed:
            listed = ", ".join(map(repr, allowed))
            yield Finding(
                DOCUMENTED_ENUM, where, f"{_show(value)} is not a documented value ({listed})"
            )
        return
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        # The branch that fits best speaks for the value.
        yield from min((list(walk(facts, b, value, where)) for b in branches), key=len)
        return
    types = node.get("type")
    if types is not None and not _has_type(value, [types] if isinstance(types, str) else types):
        yield Finding(TYPE, where, f"must be {_types(types)}, got {_kind(value)} {_show(value)}")
        return
    if isinstance(value, dict):
        yield from _walk_object(facts, node, value, where)
    elif isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            yield from walk(facts, node["items"], item, f"{where}[{index}]")


def _walk_object(
    facts: SpecFacts, node: dict[str, Any], value: dict[str, Any], where: str
) -> Iterator[Finding]:
    props = node.get("properties", {})
    extra = node.get("additionalProperties")
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        if key in props:
            yield from walk(facts, props[key], item, path)
        elif isinstance(extra, dict):
            yield from walk(facts, extra, item, path)
        elif extra is not True:
            yield Finding(UNDOCUMENTED_FIELD, path, "the spec does not describe this field")


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}


def _has_type(value: Any, types: list[str]) -> bool:
    for name in types:
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, _JSON_TYPES.get(name, ())):
            return True
    return False


def _kind(value: Any) -> str:
    for name in ("boolean", "null", "string", "object", "array"):
        if isinstance(value, _JSON_TYPES[name]):
            return name
    return "number"


def _types(types: Any) -> str:
    return " or ".join(types) if isinstance(types, list) else str(types)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
