"""One consent's timeline: what happened and when (virtual time), what is planned, the webhook
events it caused, and buttons that force the customer's next step (through the control API)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_server.domain import states
from mock_server.domain.timefmt import format_rfc3339
from mock_server.http import control_codec
from mock_server.http.codec import consent_to_wire
from mock_server.http.ui.context import Inspector
from mock_server.http.ui.html import Markup, el, join
from mock_server.http.ui.layout import BASE, View, call_button
from mock_server.http.ui.text import when


def timeline(ins: Inspector, request: Request) -> View:
    consent_id = int(request.path_params["consent_id"])
    found = ins.services.inspector.timeline(consent_id)
    c, now = found.consent, found.now
    steps = [
        el(
            "li",
            el("strong", step.what.replace("_", " ")),
            " ",
            when(step.at, now),
            el("span", " planned", class_="badge planned") if step.planned else None,
            el("span", " forced", class_="badge forced") if step.forced else None,
            el("span", f" — {step.note}", class_="hint") if step.note else None,
            class_="planned" if step.planned else "done",
            data_what=step.what,
        )
        for step in found.steps
    ]
    deliveries = [control_codec.delivery(e) for e in found.deliveries]
    waiting = c.reply_status == states.REPLY_WAITING
    force = el(
        "div",
        *[
            call_button(
                f"Force {action.replace('_', ' ')}",
                "POST",
                "/_sandbox/force",
                {"consent_id": str(c.id), "action": action},
                disabled=not waiting,
            )
            for action in ins.force_actions
        ],
        class_="actions",
        role="group",
        aria_label="Make the customer act now",
    )
    summary = el(
        "dl",
        *[
            join([el("dt", k), el("dd", v)])
            for k, v in (
                ("phone", c.phone),
                ("shop", el("a", c.shop_id, href=f"{BASE}/shops/{c.shop_id}/consents")),
                ("OA", c.oa_id),
                ("status", c.status),
                (
                    "reply",
                    el(
                        "span",
                        c.reply_status,
                        class_=f"badge reply-{c.reply_status}",
                        id="reply-status",
                    ),
                ),
                ("delivery", c.delivery_status),
                ("expires", when(c.expires_at, now)),
            )
        ],
        class_="summary",
    )
    hooks = el(
        "section",
        el("h2", "Webhook events it caused"),
        el("ul", *[_delivery_item(d) for d in deliveries], class_="plain")
        if deliveries
        else el("p", "None (its OA has no webhook target, or nothing was sent yet)."),
    )
    live = join([summary, force, el("h2", "Timeline"), el("ol", *steps, class_="timeline"), hooks])
    data = {
        "consent": consent_to_wire(c),
        "now": format_rfc3339(now),
        "steps": [
            {
                "what": s.what,
                "at": None if s.at is None else format_rfc3339(s.at),
                "planned": s.planned,
                "forced": s.forced,
                "note": s.note,
            }
            for s in found.steps
        ],
        "webhooks": deliveries,
    }
    return View("shops", f"Consent {c.id}", data, live)


def _delivery_item(d: dict[str, Any]) -> Markup:
    event = d["event"]
    kind = event.get("request_type") or event.get("user_consent") or ""
    return el(
        "li",
        el("code", event.get("event_name", "")),
        f" {kind} → ",
        el("code", d["url"]),
        f" — {d['state']}, {d['attempts']} attempt(s) ",
        el("a", "outbox", href=f"{BASE}/outbox#delivery-{d['id']}"),
    )
