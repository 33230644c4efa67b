"""Drift: what a server does that the spec does not say. Read operations only, a few requests
each: the spec's example, an empty body, errors on purpose, and a short paging walk. Every
answer is read against the spec (audit.py); what differs is collected, not failed on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from contract_tests.audit import (
    DOCUMENTED_ENUM,
    INT64_AS_STRING,
    PAGING_LIMIT,
    TWIRP_ENVELOPE,
    TWIRP_STATUS,
    TYPE,
    UNDOCUMENTED_ERROR_CODE,
    UNDOCUMENTED_FIELD,
    UNDOCUMENTED_STATUS,
    Finding,
    audit_answer,
)
from contract_tests.bodies import valid_body, with_value
from contract_tests.guard import RequestCapReached
from contract_tests.session import Kit
from contract_tests.specfacts import Operation

# Report sections, in order: the kind of drift and the audit rules that show it.
KINDS: dict[str, tuple[str, ...]] = {
    "fields the spec does not describe": (UNDOCUMENTED_FIELD,),
    "enum values the spec does not list": (DOCUMENTED_ENUM,),
    "type differences": (TYPE, INT64_AS_STRING),
    "status codes not in the spec": (UNDOCUMENTED_STATUS,),
    "error codes not in the spec": (UNDOCUMENTED_ERROR_CODE,),
    "error envelope and status map": (TWIRP_ENVELOPE, TWIRP_STATUS),
    "paging rules": (PAGING_LIMIT, "paging"),
}
PAGING = "paging"
WALK_PAGES = 4
WALK_LIMIT = 2
UNDOCUMENTED = "undocumented-value"


@dataclass
class Drift:
    kind: str
    rule: str
    operation: str
    where: str
    detail: str
    probe: str
    count: int = 1


@dataclass
class DriftReport:
    target: str
    probes: int = 0
    drifts: list[Drift] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, op: Operation, probe: str, finding: Finding) -> None:
        where = re.sub(r"\[\d+\]", "[]", finding.where)
        for drift in self.drifts:
            if (drift.rule, drift.operation, drift.where) == (finding.rule, op.label, where):
                drift.count += 1
                return
        kind = next(k for k, rules in KINDS.items() if finding.rule in rules)
        self.drifts.append(Drift(kind, finding.rule, op.label, where, finding.detail, probe))


def run_drift(kit: Kit) -> DriftReport:
    report = DriftReport(target=kit.options.target)
    try:
        _probe_all(kit, report)
    except RequestCapReached as exc:
        report.errors.append(f"stopped early: {exc}")
    return report


def _probe_all(kit: Kit, report: DriftReport) -> None:
    for op in kit.facts.operations:
        key = kit.wire.shop_key if op.partner else kit.wire.api_key
        if op.writes or not key:
            continue
        for probe, body, headers in _probes(kit, op, key):
            try:
                response = kit.http.post(op.path, headers=headers, **body)
            except httpx.HTTPError as exc:
                report.errors.append(f"{op.label} ({probe}): {type(exc).__name__}: {exc}")
                continue
            report.probes += 1
            sent = body.get("json")
            for finding in _read(kit, op, response, sent):
                report.add(op, probe, finding)
        if kit.facts.pages(op):
            try:
                for finding in _walk(kit, op, key, report):
                    report.add(op, "paging walk", finding)
            except httpx.HTTPError as exc:
                report.errors.append(f"{op.label} (paging walk): {type(exc).__name__}: {exc}")


def _probes(
    kit: Kit, op: Operation, key: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    auth = {"Authorization": f"Bearer {key}"}
    example = valid_body(kit, op)
    yield "the spec's example", {"json": example}, auth
    yield "an empty body", {"json": {}}, auth
    if kit.facts.pages(op):
        over = kit.facts.max_limit + 1
        yield "the maximum limit + 1", {"json": {"paging": {"limit": over}}}, auth
        yield "a limit far above the maximum", {"json": {"paging": {"limit": 10**6}}}, auth
    enum_fields = kit.facts.enum_fields(op)
    if enum_fields:
        path = next(iter(enum_fields))
        yield f"{path} = {UNDOCUMENTED!r}", {"json": with_value(example, path, UNDOCUMENTED)}, auth
    yield "no key", {"json": example}, {}
    yield (
        "a body that is not JSON",
        {"content": b"{not json"},
        {
            **auth,
            "Content-Type": "application/json",
        },
    )


def _read(kit: Kit, op: Operation, response: httpx.Response, sent: Any) -> list[Finding]:
    try:
        body = response.json()
    except ValueError:
        body = None
    found = audit_answer(kit.facts, op, response.status_code, body, sent)
    documented = kit.facts.status_codes(op) - {"default"}
    if str(response.status_code) not in documented:
        found.append(
            Finding(
                UNDOCUMENTED_STATUS,
                "status",
                f"HTTP {response.status_code}; the spec lists {', '.join(sorted(documented))}",
            )
        )
    return found


def _walk(kit: Kit, op: Operation, key: str, report: DriftReport) -> Iterator[Finding]:
    """A few pages of `limit` items, forward then backward: no repeats, no oversized pages."""
    items = kit.facts.items_field(op)
    for cursor_in, cursor_out in (("after", "next"), ("before", "prev")):
        cursor = "."
        ids: list[Any] = []
        for _ in range(WALK_PAGES):
            body = {"paging": {"limit": WALK_LIMIT, cursor_in: cursor}}
            response = kit.http.post(op.path, json=body, headers={"Authorization": f"Bearer {key}"})
            report.probes += 1
            if response.status_code != 200:
                yield Finding(
                    PAGING, cursor_in, f"paging with {cursor_in} answered {response.status_code}"
                )
                return
            page = response.json()
            found = page.get(items) or []
            if len(found) > WALK_LIMIT:
                yield Finding(PAGING, items, f"{len(found)} items on a page of {WALK_LIMIT}")
            for consent in found:
                if consent.get("id") in ids:
                    yield Finding(
                        PAGING, items, f"walking {cursor_in}, item {consent.get('id')} came twice"
                    )
                ids.append(consent.get("id"))
            cursor = (page.get("paging") or {}).get(cursor_out) or ""
            if not cursor:
                break
