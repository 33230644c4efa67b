"""Shops (keys masked until revealed, OAs, webhook targets), and a shop's consents with the ten
wire filters and cursor paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from mock_server.domain.errors import DomainError
from mock_server.domain.model import Consent, consent_of
from mock_server.http import control_codec
from mock_server.http.ui.context import FILTER_ENUMS, Inspector
from mock_server.http.ui.html import Markup, attr, el, join
from mock_server.http.ui.layout import BASE, View
from mock_server.http.ui.text import mask, when
from mock_server.services.inspector import ShopView

SHOPS_PAGE = 100
# The ten filters of ListRequestConsent, in the order the form shows them.
FILTERS = (
    "phone",
    "oa_id",
    "user_id",
    "reply_status",
    "status",
    "call_type",
    "reason_code",
    "is_charged",
    "date_from",
    "date_to",
)
PAGING = ("sort", "limit", "after", "before")


def _key(label: str, key: str) -> Markup:
    """A key masked; <details> reveals it (no script needed)."""
    return el(
        "details",
        el("summary", el("code", mask(key)), " ", el("span", f"reveal {label}", class_="hint")),
        el("code", key, class_="secret"),
        class_="key",
    )


def _shop_json(view: ShopView) -> dict[str, Any]:
    shop = control_codec.shop(view.shop)
    shop["oas"] = [
        {"oa_id": str(oa.oa_id), "name": oa.name, "webhook_url": oa.webhook_url} for oa in view.oas
    ]
    return shop


def shops(ins: Inspector, request: Request) -> View:
    after = _int(request.query_params.get("after"))
    found = ins.services.inspector.shops(after, SHOPS_PAGE + 1)
    more = len(found) > SHOPS_PAGE
    found = found[:SHOPS_PAGE]
    rows = [
        el(
            "tr",
            el("td", el("strong", v.shop.name), el("br"), el("code", v.shop.shop_id)),
            el("td", _key("api_key", v.shop.api_key), _key("shop_key", v.shop.shop_key)),
            el(
                "td",
                el(
                    "ul",
                    *[
                        el(
                            "li",
                            oa.name,
                            " ",
                            el("code", oa.oa_id),
                            el("br"),
                            el("span", "webhook: ", class_="hint"),
                            el("code", oa.webhook_url) if oa.webhook_url else "none",
                        )
                        for oa in v.oas
                    ],
                    class_="plain",
                ),
            ),
            el(
                "td",
                el("a", "Consents", href=f"{BASE}/shops/{v.shop.shop_id}/consents"),
                el("br"),
                el("a", "Coverage", href=f"{BASE}/shops/{v.shop.shop_id}/coverage"),
            ),
            data_shop_id=v.shop.shop_id,
        )
        for v in found
    ]
    table = el(
        "div",
        el(
            "table",
            el("caption", f"{len(found)} shop(s)" + (", more on the next page" if more else "")),
            el("thead", el("tr", *[el("th", h, scope="col") for h in ("Shop", "Keys", "OAs", "")])),
            el("tbody", *rows),
        ),
        class_="scroll",
    )
    next_after = found[-1].shop.shop_id if more and found else None
    pager = (
        el("nav", el("a", "Next shops", href=f"?after={next_after}"), aria_label="Pages")
        if next_after
        else None
    )
    data = {
        "shops": [_shop_json(v) for v in found],
        "next_after": str(next_after) if next_after else "",
    }
    return View("shops", "Shops", data, join([table, pager]))


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 0


def list_body(params: dict[str, str]) -> dict[str, Any]:
    """The ListRequestConsent body of the form's query parameters (empty ones left out)."""
    where: dict[str, Any] = {}
    for name in FILTERS:
        value = params.get(name, "").strip()
        if not value:
            continue
        if name == "is_charged":
            where[name] = {"true": True, "false": False}.get(value, value)
        else:
            where[name] = value
    paging: dict[str, Any] = {}
    for name in PAGING:
        value = params.get(name, "").strip()
        if value:
            paging[name] = int(value) if name == "limit" and value.isdigit() else value
    return {"filter": where, "paging": paging}


def consents(ins: Inspector, request: Request) -> View:
    shop_id = int(request.path_params["shop_id"])
    view = ins.services.inspector.shop(shop_id)
    params = dict(request.query_params)
    body = list_body(params)
    form = _filter_form(ins, view, params)
    title = f"Consents of {view.shop.name}"
    try:
        ins.list_validator.validate(body)
        page, paging = ins.services.consents.list_request_consent(
            view.shop, ins.codec.list_request(body)
        )
    except DomainError as error:
        data, status = ins.problem(error)
        refused = el("p", "Refused: ", el("code", data["msg"]), class_="error", role="alert")
        return View("shops", title, data, refused, form, status)
    now = ins.services.clock.now_ms()
    data = {"shop_id": str(shop_id), "request": body, **ins.codec.page(page, paging)}
    table = _consent_table([consent_of(row) for row in page.items], now)
    links = []
    for label, key, cursor in (
        ("Previous page", "before", page.prev),
        ("Next page", "after", page.next),
    ):
        if cursor:
            kept = {
                k: v for k, v in params.items() if k not in ("after", "before", "fragment", "v")
            }
            links.append(el("a", label, href="?" + urlencode({**kept, key: cursor}), rel=key))
    pager = el("nav", *links, class_="pager", aria_label="Pages") if links else None
    return View("shops", title, data, join([table, pager]), form)


def _filter_form(ins: Inspector, view: ShopView, params: dict[str, str]) -> Markup:
    def field(name: str, control: Markup) -> Markup:
        return el("div", el("label", name.replace("_", " "), for_=f"f-{name}"), control)

    def select(name: str, options: tuple[str, ...]) -> Markup:
        chosen = params.get(name, "")
        return el(
            "select",
            el("option", "any", value=""),
            *[el("option", o, value=o, selected=o == chosen) for o in options if o],
            id=f"f-{name}",
            name=name,
        )

    def text(name: str, placeholder: str = "") -> Markup:
        return el(
            "input",
            id=f"f-{name}",
            name=name,
            value=params.get(name, ""),
            placeholder=placeholder,
            size=14,
        )

    oas = tuple(str(oa.oa_id) for oa in view.oas)
    fields = [
        field("phone", text("phone", "0912345678")),
        field("oa_id", select("oa_id", oas)),
        field("user_id", text("user_id")),
        *[field(name, select(name, ins.enums[name])) for name in FILTER_ENUMS],
        field("is_charged", select("is_charged", ("true", "false"))),
        field("date_from", text("date_from", "2026-01-01T00:00:00Z")),
        field("date_to", text("date_to", "2026-02-01T00:00:00Z")),
        field("sort", select("sort", ins.enums["sort"])),
        field("limit", text("limit", "100")),
    ]
    return el(
        "form",
        el("fieldset", el("legend", "Filters (as ListRequestConsent)"), *fields, class_="grid"),
        el("button", "Apply", type="submit"),
        " ",
        el("a", "Clear", href="?"),
        method="get",
        class_="filters",
    )


CONSENT_HEADS = (
    "id",
    "created",
    "phone",
    "OA",
    "call",
    "reason",
    "status",
    "reply",
    "delivery",
    "charged",
    "expires",
    "updated",
)


def _consent_row(c: Consent, now: int) -> str:
    """One row; written out by hand (a page has 100 and is redrawn live), every value escaped."""
    e = attr
    status = e(c.status + (f" ({c.error_code})" if c.error_code else ""))
    reply = e(c.reply_status)
    return (
        f'<tr data-consent-id="{c.id}" data-reply="{reply}">'
        f'<td><a href="{BASE}/consents/{c.id}">{c.id}</a></td>'
        f"<td>{when(c.created_at, now)}</td><td>{e(c.phone)}</td><td><code>{c.oa_id}</code></td>"
        f"<td>{e(c.call_type)}</td><td>{e(c.reason_code)}</td><td>{status}</td>"
        f'<td class="reply"><span class="badge reply-{reply}">{reply}</span></td>'
        f"<td>{e(c.delivery_status)}</td><td>{'yes' if c.is_charged else 'no'}</td>"
        f"<td>{when(c.expires_at, now)}</td><td>{when(c.updated_at, now)}</td></tr>"
    )


def _consent_table(items: list[Consent], now: int) -> Markup:
    rows = Markup("".join(_consent_row(c, now) for c in items))
    return el(
        "div",
        el(
            "table",
            el("caption", f"{len(items)} consent(s) on this page"),
            el("thead", el("tr", *[el("th", h, scope="col") for h in CONSENT_HEADS])),
            el("tbody", rows),
            class_="consents",
        ),
        class_="scroll",
    )
