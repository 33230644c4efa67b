"""What went out and came in: the webhook outbox (each event with every attempt; drain and
redeliver through the control API) and the request journal (bodies with the refused field
marked, a filter, and each request as a curl command with the key left out)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_server.domain.model import OUTBOX_STATES
from mock_server.http import control_codec
from mock_server.http.ui.context import Inspector
from mock_server.http.ui.html import Markup, el, join
from mock_server.http.ui.layout import BASE, View, call_button
from mock_server.http.ui.text import curl, field_path, found, json_block

OUTBOX_PAGE = 100
JOURNAL_PAGE = 50
STATUS_FILTERS = {"": "any status", "errors": "errors (4xx, 5xx)", "ok": "successes (2xx)"}


def outbox(ins: Inspector, request: Request) -> View:
    state = request.query_params.get("state", "")
    state = state if state in OUTBOX_STATES else ""
    webhooks = ins.services.webhooks
    entries = [
        control_codec.delivery(e) for e in webhooks.get_deliveries(OUTBOX_PAGE, state or None)
    ]
    counts = ins.services.store.outbox_counts()
    counts = {s: counts.get(s, 0) for s in OUTBOX_STATES}
    filters = el(
        "nav",
        el(
            "ul",
            *[
                el(
                    "li",
                    el(
                        "a",
                        label,
                        href=f"?state={key}" if key else "?",
                        aria_current="page" if key == state else None,
                    ),
                )
                for key, label in (("", "all"), *((s, s) for s in OUTBOX_STATES))
            ],
            class_="tabs",
        ),
        aria_label="Outbox states",
    )
    controls = join(
        [
            filters,
            el(
                "div",
                call_button("Drain now", "POST", "/_sandbox/webhooks/drain", {}),
                class_="actions",
            ),
        ]
    )
    tally = el("p", ", ".join(f"{n} {s}" for s, n in counts.items()), class_="tally")
    items = [_delivery(d) for d in reversed(entries)]
    body = (
        el("ol", *items, class_="entries", reversed=True)
        if items
        else el("p", "No webhook events.")
    )
    data = {"counts": counts, "deliveries": entries}
    return View("outbox", "Webhook outbox", data, join([tally, body]), controls)


def _delivery(d: dict[str, Any]) -> Markup:
    event = d["event"]
    kind = event.get("request_type") or event.get("user_consent") or ""
    attempts = [
        el(
            "li",
            el("time", a["at"], datetime=a["at"]),
            " ",
            f"HTTP {a['status']}" if a["status"] is not None else "no answer",
            f" — {a['error']}" if a["error"] else "",
        )
        for a in d["log"]
    ]
    return el(
        "li",
        el(
            "details",
            el(
                "summary",
                el("span", d["state"], class_=f"badge state-{d['state']}"),
                " ",
                el("code", event.get("event_name", "")),
                f" {kind} #{d['id']}, consent ",
                el("a", d["consent_id"], href=f"{BASE}/consents/{d['consent_id']}")
                if d["consent_id"] != "0"
                else "unknown",
                f", {d['attempts']} attempt(s)",
            ),
            el("p", "to ", el("code", d["url"])),
            el("ol", *attempts, class_="attempts") if attempts else el("p", "Not tried yet."),
            json_block(event),
            call_button("Redeliver", "POST", "/_sandbox/webhooks/redeliver", {"id": d["id"]}),
        ),
        id=f"delivery-{d['id']}",
        data_state=d["state"],
    )


def _status_matches(status: int, wanted: str) -> bool:
    if wanted == "errors":
        return status >= 400
    if wanted == "ok":
        return 200 <= status < 300
    return True


def journal(ins: Inspector, request: Request) -> View:
    params = request.query_params
    path = params.get("path", "")[:256]
    wanted = params.get("status", "")
    entries = [
        e for e in ins.journal.find(path or None, None) if _status_matches(e["status"], wanted)
    ]
    entries = entries[-JOURNAL_PAGE:][::-1]  # newest first
    base = str(request.base_url)
    form = el(
        "form",
        el(
            "fieldset",
            el("legend", "Filter"),
            el("label", "path contains", for_="j-path"),
            el(
                "input", id="j-path", name="path", value=path, placeholder="RequestConsent", size=18
            ),
            el("label", "status", for_="j-status"),
            el(
                "select",
                *[
                    el("option", label, value=key, selected=key == wanted)
                    for key, label in STATUS_FILTERS.items()
                ],
                id="j-status",
                name="status",
            ),
            el("button", "Filter", type="submit"),
        ),
        method="get",
        class_="inline",
    )
    items = [_entry(e, base, ins.token is not None) for e in entries]
    body = (
        el("ol", *items, class_="entries", reversed=True) if items else el("p", "No requests yet.")
    )
    return View("journal", "Request journal", {"requests": entries}, body, form)


def _key_variable(path: str, control_token: bool) -> str | None:
    if path.startswith("/v1/partner"):
        return "SHOP_KEY"
    if path.startswith("/v1/"):
        return "API_KEY"
    return "CONTROL_TOKEN" if control_token else None


def _entry(e: dict[str, Any], base: str, control_token: bool) -> Markup:
    response, request = e["response"], e["request"]
    refusal = None
    mark = None
    if isinstance(response, dict) and "code" in response and "msg" in response:
        argument = (response.get("meta") or {}).get("argument", "")
        if argument:
            mark = field_path(argument)
            where = "" if found(request, mark) else " (not in the request)"
            refusal = el(
                "p",
                f"{response['code']}: refused field ",
                el("code", argument, class_="field"),
                where,
                " — ",
                response["msg"],
                class_="refusal",
            )
        else:
            refusal = el("p", f"{response['code']}: ", response["msg"], class_="refusal")
    command = curl(base, e, _key_variable(e["path"], control_token))
    seq = e["seq"]
    return el(
        "li",
        el(
            "details",
            el(
                "summary",
                el("span", e["status"], class_=f"badge status-{e['status'] // 100}xx"),
                " ",
                el("strong", e["method"]),
                " ",
                el("code", e["path"]),
                " ",
                el("span", f"{e['duration_ms']:.1f} ms · {e['at']} · #{seq}", class_="hint"),
            ),
            refusal,
            el("h3", "Request"),
            json_block(request, mark),
            el("h3", "Response"),
            json_block(response),
            el("h3", "As curl (the key stays a variable)"),
            el("pre", command, id=f"curl-{seq}", class_="curl"),
            el("button", "Copy as curl", type="button", data_copy=f"curl-{seq}"),
            id=f"req-{seq}",
        ),
        data_seq=seq,
        data_status=e["status"],
    )
