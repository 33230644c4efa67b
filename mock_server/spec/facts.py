"""Every spec fact the code relies on, read from the spec or checked against it at start-up.

The domain names a few enum values (states.py), outcomes, forced actions, outbox states and
CheckConsent codes; the spec lists every value. `SpecFacts.read` fails with one clear line when
the two disagree, so a spec edit that drops a value the code needs stops the sandbox instead of
making it misbehave.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from mock_server.domain import behaviour, check, coverage, faults, lifecycle, model, states
from mock_server.domain.durations import parse_duration_ms
from mock_server.spec import SpecDocument, Specs


class SpecMismatch(RuntimeError):
    """The spec and the code disagree on a fact the code relies on."""


@dataclass(frozen=True)
class SpecFacts:
    default_limit: int
    max_limit: int
    sort_fields: tuple[str, ...]  # the SortField enum (with and without "-")
    zero_values: dict[str, str]  # enum schema -> its zero value
    check_messages: dict[int, str]  # CheckConsent code -> message
    status_by_code: dict[str, int]  # Twirp code -> HTTP status
    twirp_codes: tuple[str, ...]
    webhook_events: tuple[str, ...]
    # Methods of the real API the sandbox does not simulate, by service (x-unimplemented).
    unimplemented: dict[str, tuple[str, ...]]
    served: tuple[str, ...]  # "Service/Method" of every operation the spec has
    # What fault rules may name: every operation's Twirp method and operationId.
    operation_names: tuple[str, ...]
    # The `x-maximum` of each bounded fault duration schema, in ms (FaultTtl, FaultWait, ...).
    fault_limits: dict[str, int]
    # The Twirp codes integration coverage reports (TwirpErrorCode.x-coverage), with their status.
    coverage_codes: dict[str, int]

    @classmethod
    def read(cls, specs: Specs, store_kinds: Collection[str]) -> SpecFacts:
        wire, control = specs.wire, specs.control
        _same("ScenarioRule.outcome", control.enum("ScenarioRule", "outcome"), behaviour.OUTCOMES)
        _same("ForceConsent.action", control.enum("ForceConsent", "action"), lifecycle.FORCED)
        _same("OutboxState", control.enum("OutboxState"), model.OUTBOX_STATES)
        _same("Health.store", control.enum("Health", "store"), store_kinds)
        for schema, values in states.NAMED.items():
            _within(schema, values, wire.enum(schema))
        if wire.zero_value("ReplyStatus") != states.REPLY_UNSET:
            raise SpecMismatch("the spec's ReplyStatus zero value is not the domain's unset")
        codes = wire.enum("CheckConsentCode")
        _within("CheckConsentCode", check.CODES, codes)
        messages = wire.extension("CheckConsentCode", None, "x-messages")
        _within("CheckConsentCode.x-messages", codes, [int(c) for c in messages])
        events = tuple(wire.webhooks())
        _within("webhooks", ("oa_send_consent", "user_reply_consent"), events)
        served = tuple(dict.fromkeys(_service_method(op.path) for op in wire.operations))
        unimplemented = {
            str(service): tuple(map(str, methods))
            for service, methods in wire.document.get("x-unimplemented", {}).items()
        }
        both = {f"{s}/{m}" for s, methods in unimplemented.items() for m in methods} & set(served)
        if both:
            raise SpecMismatch(f"x-unimplemented lists {sorted(both)}, which the spec serves")
        _fault_facts(specs)
        _coverage_facts(specs)
        statuses = dict(wire.extension("TwirpErrorCode", None, "x-http-status"))
        names = [name for op in wire.operations for name in (op.name, op.operation_id)]
        limit = wire.schema("PagingRequest")["properties"]["limit"]
        return cls(
            default_limit=int(limit["x-default-limit"]),
            max_limit=int(limit["x-max-limit"]),
            sort_fields=wire.enum("SortField"),
            zero_values={
                name: wire.zero_value(name)
                for name in ("CallType", "ReasonCode", "Status", "ReplyStatus", "DeliveryStatus")
            },
            check_messages={int(code): str(text) for code, text in messages.items()},
            status_by_code=statuses,
            twirp_codes=wire.enum("TwirpErrorCode"),
            webhook_events=events,
            unimplemented=unimplemented,
            served=served,
            operation_names=tuple(dict.fromkeys(names)),
            fault_limits={
                name: parse_duration_ms(str(control.schema(name)["x-maximum"]))
                for name in FAULT_DURATIONS
            },
            coverage_codes={
                str(code): int(statuses[code])
                for code in wire.extension("TwirpErrorCode", None, "x-coverage")
            },
        )


FAULT_DURATIONS = ("FaultDelayDuration", "FaultRetryAfter", "FaultTtl", "FaultWait")


def _fault_facts(specs: Specs) -> None:
    """The fault rules' vocabulary: the spec's and the domain's must be the same."""
    control = specs.control
    _same("FaultAction", control.schema("FaultAction")["properties"], faults.ACTIONS)
    _same("FaultWhen.phase", control.enum("FaultWhen", "phase"), faults.PHASES)
    _same("FaultMatch.side", control.enum("FaultMatch", "side"), faults.SIDES)
    _same("FaultDelay.clock", control.enum("FaultDelay", "clock"), faults.CLOCKS)
    shapes = set(control.schema("FaultDelay")["properties"]) - {"clock"}
    _same("FaultDelay's distributions", shapes, faults.DISTRIBUTIONS)
    _within("TwirpErrorCode", faults.RETRY_CODES, specs.wire.enum("TwirpErrorCode"))


def _coverage_facts(specs: Specs) -> None:
    """What coverage names: the webhook values the lifecycle sends, the Twirp codes it reports,
    its groups and misuse rules."""
    wire, control = specs.wire, specs.control
    for event, (field, values) in lifecycle.WEBHOOK_VALUES.items():
        schema = wire.webhooks().get(event)
        if schema is None:
            raise SpecMismatch(f"the spec's webhooks lack {event!r}, which the code sends")
        _within(f"webhook {event}.{field}", values, _payload_enum(wire, schema, field))
    codes = wire.extension("TwirpErrorCode", None, "x-coverage")
    _within("TwirpErrorCode (for x-coverage)", codes, wire.enum("TwirpErrorCode"))
    _within("TwirpErrorCode.x-coverage", faults.RETRY_CODES, codes)
    _same("CoverageItem.group", control.enum("CoverageItem", "group"), coverage.GROUPS)
    rules = [rule.id for rule in coverage.MISUSE_RULES]
    _same("CoverageMisuse.rule", control.enum("CoverageMisuse", "rule"), rules)


def _payload_enum(wire: SpecDocument, schema: dict[str, Any], field: str) -> tuple[Any, ...]:
    """The enum of a webhook payload's field (its schema may be an allOf of parts)."""
    node = wire.resolve(schema)
    for part in [node, *(wire.resolve(p) for p in node.get("allOf", []))]:
        prop = part.get("properties", {}).get(field)
        if prop is not None and "enum" in wire.resolve(prop):
            return tuple(wire.resolve(prop)["enum"])
    raise SpecMismatch(f"the spec's webhook payload has no enum {field!r}")


def _service_method(path: str) -> str:
    """`/v1/shop.Zalo/ListOA` -> `Zalo/ListOA`."""
    return path.rsplit("/", 2)[-2].split(".", 1)[-1] + "/" + path.rsplit("/", 1)[-1]


def _same(what: str, in_spec: Collection[Any], in_code: Collection[Any]) -> None:
    if set(in_spec) != set(in_code):
        raise SpecMismatch(
            f"the spec's {what} is {sorted(map(str, in_spec))}, "
            f"the code knows {sorted(map(str, in_code))}"
        )


def _within(what: str, needed: Collection[Any], in_spec: Collection[Any]) -> None:
    missing = set(needed) - set(in_spec)
    if missing:
        raise SpecMismatch(
            f"the spec's {what} lacks {sorted(map(str, missing))}, which the code needs"
        )
