"""The page every view shares: the header with the views and the virtual clock, the view's
controls, its live region (what server-sent events refresh), and the sign-in page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.domain.timefmt import format_rfc3339
from mock_server.http.ui.html import Markup, el

BASE = "/_sandbox/ui"
STATIC = f"{BASE}/static"
NAV = (
    ("shops", "Shops", BASE),
    ("clock", "Clock", f"{BASE}/clock"),
    ("rules", "Rules", f"{BASE}/rules"),
    ("faults", "Faults", f"{BASE}/faults"),
    ("outbox", "Outbox", f"{BASE}/outbox"),
    ("journal", "Journal", f"{BASE}/journal"),
)
# What the headers of every inspector page allow: its own scripts and styles, nothing inline,
# no framing (a foreign page cannot overlay its buttons), no other site to talk to.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class View:
    """One view: its data (the JSON answer) and how it shows (the HTML answer)."""

    name: str  # the NAV entry it belongs to
    title: str
    data: Any
    live: Markup  # refreshed on every change
    controls: Markup = field(default_factory=lambda: Markup(""))  # forms, kept while typing
    status: int = 200


def call_button(label: str, method: str, path: str, body: Any, **attrs: object) -> Markup:
    """A button that calls the control API (inspector.js sends it as JSON)."""
    return el(
        "button",
        label,
        type="button",
        data_call=f"{method} {path}",
        data_body=orjson.dumps(body).decode(),
        **attrs,
    )


def clock_bar(clock: dict[str, Any]) -> Markup:
    now, rate = clock["now_ms"], clock["rate"]
    state = "frozen" if rate == 0 else f"running at rate {rate:g}"
    quick = [
        call_button(
            f"+{step}", "POST", "/_sandbox/clock", {"advance": step}, aria_label=f"Advance {name}"
        )
        for step, name in (("1m", "1 minute"), ("1h", "1 hour"), ("1d", "1 day"))
    ]
    advance = el(
        "form",
        el("label", "Advance by", for_="advance-by"),
        el(
            "input",
            id="advance-by",
            name="advance",
            placeholder="2m",
            required=True,
            size=6,
            pattern="([0-9]+(ms|s|m|h|d))+",
            title="a duration such as 90s, 15m, 1h30m or 2d",
        ),
        el("button", "Advance", type="submit"),
        class_="inline",
        data_call="POST /_sandbox/clock",
    )
    return el(
        "section",
        el(
            "p",
            "Sandbox time ",
            el("time", format_rfc3339(now), id="now", datetime=format_rfc3339(now)),
            " ",
            el("span", state, id="rate", data_rate=rate, data_now=now),
            " ",
            el("span", "", id="live-state"),
        ),
        el("div", *quick, advance, class_="quick"),
        class_="clockbar",
        aria_label="Virtual clock",
    )


def page(view: View, clock: dict[str, Any], seq: int) -> Markup:
    nav = el(
        "ul",
        *[
            el("li", el("a", label, href=href, aria_current="page" if key == view.name else None))
            for key, label, href in NAV
        ],
    )
    body = el(
        "body",
        el("a", "Skip to the content", href="#main", class_="skip"),
        el(
            "header",
            el("p", el("a", "eTelecom sandbox inspector", href=BASE), class_="brand"),
            el("nav", nav, aria_label="Views"),
            clock_bar(clock),
        ),
        el(
            "main",
            el("h1", view.title),
            view.controls,
            el("div", view.live, id="live", data_seq=seq),
            id="main",
        ),
        el("p", "", id="status", role="status", aria_live="polite"),
        el(
            "footer",
            el(
                "noscript",
                el("p", "Without JavaScript the pages read as they are; buttons need it."),
            ),
            call_button(
                "Reset the sandbox",
                "POST",
                "/_sandbox/reset",
                {},
                data_confirm="Forget every shop, consent, rule and event?",
                class_="danger",
            ),
            " ",
            el("a", "This view as JSON", href="?format=json"),
        ),
        data_seq=seq,
    )
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", f"{view.title} · sandbox inspector"),
        el("link", rel="stylesheet", href=f"{STATIC}/inspector.css"),
        el("link", rel="icon", href=f"{STATIC}/favicon.svg", type="image/svg+xml"),
        el("script", type="module", src=f"{STATIC}/inspector.js"),
    )
    return Markup(f"<!doctype html>\n{el('html', head, body, lang='en')}\n")


def sign_in(message: str = "") -> Markup:
    """The page a browser gets when the sandbox has a control token and it has not given it."""
    form = el(
        "form",
        el("label", "Control token", for_="token"),
        el("input", id="token", name="token", type="password", required=True, autocomplete="off"),
        el("button", "Sign in", type="submit"),
        method="post",
        action=f"{BASE}/login",
    )
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", "Sign in · sandbox inspector"),
        el("link", rel="stylesheet", href=f"{STATIC}/inspector.css"),
        el("link", rel="icon", href=f"{STATIC}/favicon.svg", type="image/svg+xml"),
    )
    body = el(
        "body",
        el(
            "main",
            el("h1", "Sign in"),
            el("p", "This sandbox has a control token (serve --control-token)."),
            el("p", message, class_="error", role="alert") if message else None,
            form,
            id="main",
        ),
    )
    return Markup(f"<!doctype html>\n{el('html', head, body, lang='en')}\n")


def clock_data(now: int, rate: float) -> dict[str, Any]:
    return {"now": format_rfc3339(now), "now_ms": now, "rate": rate, "frozen": rate == 0}
