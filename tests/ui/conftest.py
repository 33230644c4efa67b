"""Fixtures of the inspector's browser tests: a sandbox served over real HTTP, a page that
records console errors, and the wire API as a client would call it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, START
from tests.specs import SPECS
from tests.ui.browser import browser  # noqa: F401  (the session's Chromium)


class Wire:
    """The wire API of the demo shop, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {DEMO.demo_api_key}"}, timeout=10
        )

    def request_consent(self, phone: str) -> dict[str, Any]:
        body = {
            "oa_id": DEMO_OA,
            "phone": phone,
            "call_type": "audio",
            "reason_code": "update_order",
        }
        response = self.http.post("/v1/shop.Zalo/RequestConsent", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def list(self, body: Any) -> httpx.Response:
        return self.http.post("/v1/shop.Zalo/ListRequestConsent", json=body)


@pytest.fixture
def served() -> Iterator[ThreadedServer]:
    settings = Settings(store="memory", clock_start=START, clock_rate=0)
    with ThreadedServer(create_app(settings, SPECS)) as server:
        yield server


@pytest.fixture
def wire(served: ThreadedServer) -> Iterator[Wire]:
    client = Wire(served.url)
    yield client
    client.http.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    """A fresh page whose console errors and uncaught exceptions are kept in `page.problems`."""
    # The pages' Content-Security-Policy is bypassed: the tests' own waits evaluate code, and the
    # escaping tests must prove that markup is escaped, not merely blocked by the policy.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.problems = problems
    tab.set_default_timeout(5000)
    yield tab
    context.close()
