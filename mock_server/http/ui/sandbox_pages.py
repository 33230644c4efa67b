"""The clock (now, rate, the events due next, and its controls), the scenario rules with the
magic phones, and the faults (when this sandbox's control API has them)."""

from __future__ import annotations

import inspect
import json
from typing import Any

from starlette.requests import Request

from mock_server.domain.timefmt import format_rfc3339
from mock_server.http import control_codec
from mock_server.http.ui.context import Inspector
from mock_server.http.ui.html import Markup, el, join
from mock_server.http.ui.layout import BASE, View, call_button, clock_data
from mock_server.http.ui.text import when

NEXT_DUE = 20
FAULTS_PATH = "/_sandbox/faults"


def _form(call: str, label: str, *fields: Markup, button: str) -> Markup:
    return el(
        "form",
        el("fieldset", el("legend", label), *fields, el("button", button, type="submit")),
        data_call=call,
        class_="inline",
    )


def _input(name: str, label: str, **attrs: object) -> Markup:
    return join(
        [
            el("label", label, for_=f"clock-{name}"),
            " ",
            el("input", id=f"clock-{name}", name=name, **attrs),
        ]
    )


def clock(ins: Inspector, request: Request) -> View:
    now, due = ins.services.inspector.upcoming(NEXT_DUE)
    rate = ins.services.clock.state.rate
    controls = el(
        "div",
        el(
            "div",
            *[
                call_button(f"Advance {step}", "POST", "/_sandbox/clock", {"advance": step})
                for step in ("1m", "1h", "1d")
            ],
            call_button("Freeze", "POST", "/_sandbox/clock", {"rate": 0}),
            call_button("Run at real speed", "POST", "/_sandbox/clock", {"rate": 1}),
            class_="actions",
        ),
        _form(
            "POST /_sandbox/clock",
            "Advance by",
            _input("advance", "duration", placeholder="1h30m", required=True, size=8),
            button="Advance",
        ),
        _form(
            "POST /_sandbox/clock",
            "Set (forward only)",
            _input("set", "instant", placeholder=format_rfc3339(now), required=True, size=24),
            button="Set",
        ),
        _form(
            "POST /_sandbox/clock",
            "Rate",
            _input(
                "rate", "rate", type="number", min=0, step="any", required=True, value=f"{rate:g}"
            ),
            button="Set rate",
        ),
        class_="controls",
    )
    rows = [
        el(
            "tr",
            el("td", when(e.due, now)),
            el("td", e.kind + (f" ({e.value})" if e.value else "")),
            el("td", el("a", e.consent_id, href=f"{BASE}/consents/{e.consent_id}")),
        )
        for e in due
    ]
    summary = el(
        "dl",
        el("dt", "now"),
        el("dd", el("time", format_rfc3339(now), datetime=format_rfc3339(now))),
        el("dt", "rate"),
        el("dd", f"{rate:g}" + (" (frozen)" if rate == 0 else "")),
        class_="summary",
    )
    table = el(
        "div",
        el(
            "table",
            el("caption", f"The next {len(rows)} event(s) due"),
            el("thead", el("tr", *[el("th", h, scope="col") for h in ("due", "event", "consent")])),
            el("tbody", *rows),
        ),
        class_="scroll",
    )
    data = {
        "clock": clock_data(now, rate),
        "next_due": [
            {
                "due": format_rfc3339(e.due),
                "kind": e.kind,
                "value": e.value,
                "consent_id": str(e.consent_id),
            }
            for e in due
        ],
    }
    return View("clock", "Clock", data, join([summary, table]), controls)


RULE_COLUMNS = (
    "name",
    "phone",
    "pattern",
    "outcome",
    "received_after",
    "seen_after",
    "reply_after",
    "call_window",
)


def _rules_table(caption: str, rules: list[dict[str, Any]]) -> Markup:
    rows = [
        el("tr", *[el("td", rule.get(column, "")) for column in RULE_COLUMNS]) for rule in rules
    ]
    return el(
        "div",
        el(
            "table",
            el("caption", f"{caption} ({len(rules)})"),
            el(
                "thead",
                el("tr", *[el("th", c.replace("_", " "), scope="col") for c in RULE_COLUMNS]),
            ),
            el("tbody", *rows),
        ),
        class_="scroll",
    )


def rules(ins: Inspector, request: Request) -> View:
    data = control_codec.rule_tables(ins.services.scenarios.get_rules())
    tables = [
        _rules_table(f"Rules of shop {shop_id}", shop_rules)
        for shop_id, shop_rules in data["shops"].items()
    ]
    tables.append(_rules_table("Global rules", data["global"]))
    tables.append(_rules_table("Magic phones", data["magic_phones"]))
    hint = el(
        "p",
        "Tried in this order; the first match decides. Change them with ",
        el("code", "PUT /_sandbox/rules"),
        ".",
        class_="hint",
    )
    return View("rules", "Rules and magic phones", data, join(tables), hint)


FAULT_COLUMNS = ("id", "match", "action", "when", "matched", "hits", "remaining", "active")


def _fault_table(caption: str, rules: list[dict[str, Any]]) -> Markup:
    def cell(rule: dict[str, Any], column: str) -> Markup:
        value = rule.get(column)
        if isinstance(value, dict):  # match, action, when: compact JSON, shown as text
            return el("td", el("code", json.dumps(value, separators=(", ", ": "))))
        return el("td", "" if value is None else str(value))

    rows = [el("tr", *[cell(rule, c) for c in FAULT_COLUMNS]) for rule in rules]
    return el(
        "div",
        el(
            "table",
            el("caption", f"{caption} ({len(rules)})"),
            el("thead", el("tr", *[el("th", c, scope="col") for c in FAULT_COLUMNS])),
            el("tbody", *rows),
        ),
        class_="scroll",
    )


async def faults(ins: Inspector, request: Request) -> View:
    """The faults in force, read through the control API's own GET /_sandbox/faults."""
    methods = ins.control_routes.get(FAULTS_PATH, {})
    read = ins.control_handlers.get(methods.get("GET", ""))
    if read is None:
        text = "faults: not available in this version"
        return View("faults", "Faults", {"available": False, "message": text}, el("p", text))
    result = read({})
    if inspect.isawaitable(result):
        result = await result
    payload = result[0]
    tables = [
        _fault_table(f"Faults of shop {shop_id}", rules)
        for shop_id, rules in payload.get("shops", {}).items()
    ]
    tables.append(_fault_table("Global faults", payload.get("global", [])))
    held = el("p", f"Requests held by a fault now: {payload.get('held', 0)}", class_="hint")
    controls = None
    if "POST" in methods:
        controls = el(
            "form",
            el(
                "fieldset",
                el("legend", "Add a fault"),
                el("label", "Fault (JSON, as POST /_sandbox/faults takes it)", for_="fault-body"),
                el("textarea", "{}", id="fault-body", name="body", rows=4, cols=50, data_json=True),
                el("button", "Add", type="submit"),
            ),
            data_call=f"POST {FAULTS_PATH}",
        )
    return View(
        "faults",
        "Faults",
        {"available": True, "faults": payload},
        join([*tables, held]),
        controls or Markup(""),
    )
