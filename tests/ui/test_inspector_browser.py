"""The inspector in a real headless Chromium: pages load cleanly, update live, the buttons call
the control API, refusals and hostile bodies show as text, and it reads in a narrow window."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mock_server.serving import ThreadedServer
from tests.conftest import DEMO
from tests.ui.browser import screenshot
from tests.ui.conftest import Wire

# One worker runs them all, one after another: the browser starts once for the module.
pytestmark = pytest.mark.ui

SHOP = DEMO.demo_shop_id
VIEWS = (
    "/_sandbox/ui",
    f"/_sandbox/ui/shops/{SHOP}/consents",
    "/_sandbox/ui/clock",
    "/_sandbox/ui/rules",
    "/_sandbox/ui/faults",
    "/_sandbox/ui/outbox",
    "/_sandbox/ui/journal",
)
LIVE_WITHIN_MS = 2000


def open_live(page: Any, url: str) -> None:
    """Open a view and wait until its event stream is connected."""
    page.goto(url)
    page.wait_for_function("document.getElementById('live-state').textContent === 'live'")


def test_every_view_loads_with_no_console_error(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    made = wire.request_consent("0900000001")
    for path in (*VIEWS, f"/_sandbox/ui/consents/{made['id']}"):
        open_live(page, served.url + path)
        assert page.locator("h1").count() == 1
        name = path.strip("/").replace("/", "-") or "index"
        screenshot(page, name.replace(str(SHOP), "demo").replace(made["id"], "consent"))
    assert page.problems == []


def test_a_consent_made_over_the_wire_appears_without_a_reload(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    open_live(page, f"{served.url}/_sandbox/ui/shops/{SHOP}/consents")
    page.evaluate("window.sameDocument = true")
    made = wire.request_consent("0912000111")
    page.locator(f'tr[data-consent-id="{made["id"]}"]').wait_for(timeout=LIVE_WITHIN_MS)
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    assert page.problems == []


def test_advance_2m_turns_a_magic_phone_to_agreed(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    for others in ("0900000002", "0900000003", "0900000004", "0912345678"):
        wire.request_consent(others)  # rejects, never answers, fails at once, random
    made = wire.request_consent("0900000001")
    open_live(page, f"{served.url}/_sandbox/ui/shops/{SHOP}/consents")
    row = page.locator(f'tr[data-consent-id="{made["id"]}"]')
    assert row.get_attribute("data-reply") == "S"
    page.get_by_label("Advance by").first.fill("2m")
    page.get_by_label("Advance by").first.press("Enter")  # the keyboard is enough
    page.locator(f'tr[data-consent-id="{made["id"]}"][data-reply="P"]').wait_for(
        timeout=LIVE_WITHIN_MS
    )
    assert page.locator("#now").inner_text() == "2026-01-01T00:02:00Z"
    screenshot(page, "consents-after-advance")  # the README's picture (docs/inspector.png)
    assert page.problems == []


def test_the_force_button_makes_the_customer_agree(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    made = wire.request_consent("0912000222")
    open_live(page, f"{served.url}/_sandbox/ui/consents/{made['id']}")
    assert page.locator("#reply-status").inner_text() == "S"
    page.get_by_role("button", name="Force agree").click()
    page.wait_for_function("document.getElementById('reply-status').textContent === 'P'")
    steps = page.locator("ol.timeline li.done")
    assert "agreed" in steps.all_inner_texts()[-1] and "forced" in steps.all_inner_texts()[-1]
    assert page.get_by_role("button", name="Force agree").is_disabled()
    screenshot(page, "timeline-forced")
    journal = httpx.get(f"{served.url}/_sandbox/journal", params={"path": "force"}).json()
    assert journal["requests"][-1]["status"] == 200  # the button went through the control API
    assert page.problems == []


def test_a_refused_request_shows_its_field_path_in_the_journal(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    refused = wire.list({"filter": {"call_type": "fax"}})
    assert refused.status_code == 400
    open_live(page, f"{served.url}/_sandbox/ui/journal")
    entry = page.locator("li[data-status='400']").first
    entry.locator("summary").click()
    assert entry.locator(".refusal code.field").inner_text() == "filter.call_type"
    marked = entry.locator("mark.refused")
    assert marked.inner_text() == '"fax"' and marked.is_visible()
    curl = entry.locator("pre.curl").inner_text()
    assert "$API_KEY" in curl and DEMO.demo_api_key not in curl
    screenshot(page, "journal-refused")
    assert page.problems == []


XSS = ("<script>window.owned = 1</script>", '"><img src=x onerror="window.owned = 2">')


def test_markup_in_bodies_and_names_is_shown_as_text(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    wire.list({"filter": {"phone": XSS[0]}, "paging": {"after": XSS[1]}})
    created = httpx.post(
        f"{served.url}/_sandbox/shops",
        json={"name": XSS[1], "oa_ids": ["42"], "oa_names": [XSS[0]]},
    )
    assert created.status_code == 201
    open_live(page, f"{served.url}/_sandbox/ui/journal")
    for summary in page.locator("#live summary").all():
        summary.click()
    text = page.locator("#live").inner_text()
    assert XSS[0] in text and "onerror" in text
    open_live(page, f"{served.url}/_sandbox/ui")
    assert XSS[1] in page.locator("#live").inner_text()
    assert XSS[0] in page.locator("#live").inner_text()
    assert page.locator("#live img, #live script").count() == 0
    assert page.evaluate("window.owned") is None
    assert page.problems == []


def test_it_reads_in_a_narrow_window_and_by_keyboard(
    browser: Any, served: ThreadedServer, wire: Wire
) -> None:
    wire.request_consent("0900000003")
    context = browser.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True)
    page = context.new_page()
    for path in VIEWS:
        page.goto(served.url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways: {width}"
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('input, select, textarea, button')]
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                            && !e.textContent.trim())
               .map(e => e.outerHTML)"""
        )
        assert unlabelled == [], path
    screenshot(page, "narrow-journal")
    page.goto(f"{served.url}/_sandbox/ui/clock")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    context.close()


EVIL = """<!doctype html><title>another site</title>
<form id="f" method="post" action="{sandbox}/_sandbox/reset" enctype="text/plain">
<input name='{{"a":"' value='"}}'></form>
<script>
fetch("{sandbox}/_sandbox/reset", {{method: "POST", mode: "no-cors",
  headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}})
  .finally(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script>"""


def test_a_page_on_another_site_cannot_reset_the_sandbox(
    page: Any, served: ThreadedServer, wire: Wire
) -> None:
    made = wire.request_consent("0912000333")

    async def evil(_: Any) -> HTMLResponse:
        return HTMLResponse(EVIL.format(sandbox=served.url))

    other = ThreadedServer(Starlette(routes=[Route("/", evil)]), lifespan="auto")
    with other:
        # Another origin (localhost, not 127.0.0.1): what a site on the internet would be.
        page.goto(other.url.replace("127.0.0.1", "localhost") + "/")
        page.wait_for_url(f"{served.url}/_sandbox/reset", timeout=5000)
    assert page.locator("body").inner_text().startswith('{"code":"permission_denied"')
    resets = httpx.get(f"{served.url}/_sandbox/journal", params={"path": "reset"}).json()
    assert [r["status"] for r in resets["requests"]] == [403, 403]
    listed = wire.list({"filter": {"phone": "0912000333"}}).json()
    assert [c["id"] for c in listed["consents"]] == [made["id"]]  # nothing was forgotten
