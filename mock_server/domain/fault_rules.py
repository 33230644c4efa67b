"""Fault rules from their documents. The control spec has checked each document's shape; this
checks what a schema cannot say (names the specs list, one outcome per rule, bounds of
durations, which actions fit wire requests and which fit webhook deliveries), naming the field
at fault."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from mock_server.domain import faults as f
from mock_server.domain.durations import format_duration, parse_duration_ms
from mock_server.domain.errors import InvalidField
from mock_server.domain.phones import normalize_phone

Document = Mapping[str, Any]


def parse_faults(
    documents: Sequence[Document], field: str, policy: f.FaultPolicy
) -> list[f.FaultRule]:
    """Rules from documents that all have ids; a repeated id is InvalidField."""
    rules: list[f.FaultRule] = []
    seen: set[str] = set()
    for n, document in enumerate(documents):
        rule = parse_fault(document, f"{field}[{n}]", policy)
        if rule.id in seen:
            raise InvalidField(f"{field}[{n}].id", f'"{rule.id}" is used by an earlier rule')
        seen.add(rule.id)
        rules.append(rule)
    return rules


def parse_fault(document: Document, field: str, policy: f.FaultPolicy) -> f.FaultRule:
    match = _match(document["match"], f"{field}.match", policy)
    deliveries = bool(match.events)
    when: Document = document.get("when") or {}
    action = document["action"]
    kind = _action_kind(action, f"{field}.action", deliveries)
    delay = (
        _delay(action["delay"], f"{field}.action.delay", policy, deliveries)
        if f.DELAY in action
        else None
    )
    error = _error(action[f.ERROR], f"{field}.action.error", policy) if f.ERROR in action else None
    if deliveries and "phase" in when:
        raise InvalidField(f"{field}.when.phase", "is for wire operations (match.operation) only")
    phase = when.get("phase", f.BEFORE)
    if kind == f.TRUNCATE and phase != f.AFTER:
        raise InvalidField(
            f"{field}.when.phase",
            "must be after with truncate: what is cut is the operation's answer",
        )
    ttl = when.get("ttl")
    return f.FaultRule(
        id=str(document["id"]),
        match=match,
        action=kind,
        delay=delay,
        error=error,
        phase=phase,
        probability=float(when.get("probability", 1.0)),
        times=int(when["times"]) if "times" in when else None,
        ttl_ms=duration_ms(ttl, f"{field}.when.ttl", policy.max_ttl_ms) if ttl else None,
    )


def _match(match: Document, field: str, policy: f.FaultPolicy) -> f.Match:
    operations = _names(match.get("operation"), f"{field}.operation", policy.operations)
    events = _names(match.get("event"), f"{field}.event", policy.events)
    if bool(operations) == bool(events):
        raise InvalidField(
            field, "needs operation (wire requests) or event (webhook deliveries), not both"
        )
    if operations and "url" in match:
        raise InvalidField(f"{field}.url", "is for webhook deliveries (match.event) only")
    if events and "side" in match:
        raise InvalidField(f"{field}.side", "is for wire operations (match.operation) only")
    return f.Match(
        operations=operations,
        events=events,
        url=match.get("url"),
        shop_id=_int(match.get("shop_id")),
        oa_id=_int(match.get("oa_id")),
        phone=normalize_phone(match["phone"]) if match.get("phone") else None,
        side=match.get("side"),
    )


def _names(value: str | list[str] | None, field: str, known: Collection[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = [value] if isinstance(value, str) else list(value)
    for n, name in enumerate(names):
        if name != f.ANY and name not in known:
            where = field if isinstance(value, str) else f"{field}[{n}]"
            allowed = ", ".join(f'"{k}"' for k in sorted(known))
            raise InvalidField(where, f'must be "*" or one of {allowed} (got "{name}")')
    return frozenset(names)


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _action_kind(action: Document, field: str, deliveries: bool) -> str:
    """The one outcome of a rule (DELAY when the delay is all it does)."""
    given = [name for name in f.ACTIONS if name in action]
    if deliveries:
        for name in given:
            if name not in f.DELIVERY_ACTIONS:
                raise InvalidField(
                    f"{field}.{name}", "is for wire operations (match.operation) only"
                )
        if len(given) != 1:
            allowed = ", ".join(f.DELIVERY_ACTIONS)
            raise InvalidField(field, f"must hold exactly one of {allowed} for webhook deliveries")
        return given[0]
    for name in given:
        if name not in (*f.REQUEST_OUTCOMES, f.DELAY):
            raise InvalidField(f"{field}.{name}", "is for webhook deliveries (match.event) only")
    outcomes = [name for name in given if name in f.REQUEST_OUTCOMES]
    if len(outcomes) > 1:
        raise InvalidField(
            field,
            f"may hold one of {', '.join(f.REQUEST_OUTCOMES)} (and a delay), "
            f"not {' and '.join(outcomes)}",
        )
    return outcomes[0] if outcomes else f.DELAY


def _error(error: Document, field: str, policy: f.FaultPolicy) -> f.ErrorAnswer:
    code = str(error["code"])
    if code not in policy.codes:
        allowed = ", ".join(f'"{c}"' for c in sorted(policy.codes))
        raise InvalidField(f"{field}.code", f'must be one of {allowed} (got "{code}")')
    retry = error.get("retry_after")
    if retry and code not in f.RETRY_CODES:
        raise InvalidField(
            f"{field}.retry_after", f"goes with {' or '.join(f.RETRY_CODES)} only (got {code})"
        )
    return f.ErrorAnswer(
        code,
        str(error.get("msg") or ""),
        duration_ms(retry, f"{field}.retry_after", policy.max_retry_after_ms) if retry else None,
    )


def _delay(delay: Document, field: str, policy: f.FaultPolicy, deliveries: bool) -> f.Delay:
    kinds = [kind for kind in f.DISTRIBUTIONS if kind in delay]
    if len(kinds) != 1:
        raise InvalidField(field, f"must hold exactly one of {', '.join(f.DISTRIBUTIONS)}")
    clock = delay.get("clock", f.WALL)
    if clock == f.VIRTUAL and not deliveries:
        raise InvalidField(
            f"{field}.clock", "virtual is for webhook deliveries: a request waits in wall time"
        )
    kind = kinds[0]
    top = policy.max_delay_ms

    def ms(key: str, part: str = "") -> int:
        where = f"{field}.{kind}" + (f".{part}" if part else "")
        value = delay[kind] if not part else delay[kind][part]
        return duration_ms(value, where, top)

    if kind == f.FIXED:
        return f.Delay(kind, ms(kind), clock=clock, cap=top)
    low_key, high_key = ("min", "max") if kind == f.UNIFORM else ("median", "p99")
    low, high = ms(kind, low_key), ms(kind, high_key)
    if high < low:
        raise InvalidField(f"{field}.{kind}.{high_key}", f"must not be less than {low_key}")
    if kind == f.LOGNORMAL and low == 0:
        raise InvalidField(f"{field}.{kind}.median", "must be more than 0")
    return f.Delay(kind, low, high, clock, top)


def duration_ms(text: str, field: str, top_ms: int) -> int:
    """A duration the spec has checked the form of, within its maximum."""
    value = parse_duration_ms(text)
    if value > top_ms:
        raise InvalidField(field, f"must be at most {format_duration(top_ms)} (got {text})")
    return value


def one_off(
    kind: str, options: Mapping[str, str], delay_ms: int, field: str, policy: f.FaultPolicy
) -> f.Fault:
    """The fault a request asks for itself (`X-Sandbox-Fault: unavailable; phase=after`): a
    Twirp code or a connection fault, with its options; `field` names the header."""
    unknown = sorted(set(options) - {"phase", "retry_after"})
    if unknown:
        raise InvalidField(field, f"has no option {unknown[0]} (phase, retry_after)")
    outcome = f.ERROR if kind in policy.codes else kind
    if outcome not in (f.ERROR, *f.CONNECTION_FAULTS):
        raise InvalidField(
            field, f"must be a Twirp code or one of {', '.join(f.CONNECTION_FAULTS)} (got {kind!r})"
        )
    phase = options.get("phase", f.AFTER if outcome == f.TRUNCATE else f.BEFORE)
    if phase not in f.PHASES or (outcome == f.TRUNCATE and phase != f.AFTER):
        allowed = f.AFTER if outcome == f.TRUNCATE else " or ".join(f.PHASES)
        raise InvalidField(field, f"phase must be {allowed} (got {phase!r})")
    error = None
    if outcome == f.ERROR:
        document = {
            "code": kind,
            **({"retry_after": options["retry_after"]} if "retry_after" in options else {}),
        }
        error = _error(document, field, policy)
    elif "retry_after" in options:
        raise InvalidField(field, "retry_after goes with a Twirp code only")
    return f.Fault(None, phase, outcome, error, delay_ms)
