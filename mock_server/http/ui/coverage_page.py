"""A shop's integration coverage: every item its traffic reached or never did, by group, with
an example of each (its consent, or its journal entry), and the misuse its requests showed."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_server.coverage_report import GROUP_TITLES, example_text, headline
from mock_server.http import control_codec
from mock_server.http.control_api import README_RULES
from mock_server.http.ui.context import Inspector
from mock_server.http.ui.html import Markup, el, join
from mock_server.http.ui.layout import BASE, View, call_button

HEADS = ("item", "reached", "count", "example")


def _example(example: dict[str, Any] | None) -> Markup:
    if not example:
        return el("span", "", class_="hint")
    if "consent_id" in example:
        consent = example["consent_id"]
        return el("a", f"consent {consent}", href=f"{BASE}/consents/{consent}")
    return el("span", example_text(example))


def _group(title: str, items: list[dict[str, Any]]) -> Markup:
    rows = [
        el(
            "tr",
            el("td", item["label"]),
            el(
                "td",
                el(
                    "span",
                    "reached" if item["reached"] else "never",
                    class_=f"badge {'reply-P' if item['reached'] else 'reply-N'}",
                ),
            ),
            el("td", item["count"]),
            el("td", _example(item["example"])),
            data_item=item["id"],
        )
        for item in items
    ]
    reached = sum(1 for item in items if item["reached"])
    return el(
        "div",
        el(
            "table",
            el("caption", f"{title}: {reached} of {len(items)}"),
            el(
                "thead",
                el("tr", *[el("th", h, scope="col") for h in HEADS]),
            ),
            el("tbody", *rows),
        ),
        class_="scroll",
    )


def _misuse(found: list[dict[str, Any]]) -> Markup:
    if not found:
        return el("p", "No misuse found.", class_="hint")
    return el(
        "ul",
        *[
            el(
                "li",
                el("strong", m["rule"]),
                f" ({m['count']}): {m['why']}; for example ",
                _example(m["example"]),
                data_rule=m["rule"],
            )
            for m in found
        ],
        class_="misuse",
    )


def coverage(ins: Inspector, request: Request) -> View:
    shop_id = int(request.path_params["shop_id"])
    view = ins.services.inspector.shop(shop_id)  # NotFound for a shop that does not exist
    data = control_codec.coverage(ins.services.coverage.get_coverage(shop_id), README_RULES)
    tables = [
        _group(title, [i for i in data["items"] if i["group"] == group])
        for group, title in GROUP_TITLES.items()
    ]
    live = join(
        [
            el("p", headline(data), class_="summary"),
            el("h2", "Misuse"),
            _misuse(data["misuse"]),
            el("h2", "Items"),
            *tables,
        ]
    )
    controls = el(
        "div",
        el("a", "Consents", href=f"{BASE}/shops/{shop_id}/consents"),
        " ",
        call_button(
            "Reset this shop's coverage",
            "POST",
            "/_sandbox/coverage/reset",
            {"shop_id": str(shop_id)},
        ),
        class_="actions",
    )
    return View("shops", f"Coverage of {view.shop.name}", data, live, controls)
