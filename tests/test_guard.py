"""Another site's page, in the developer's browser, can neither drive nor read the sandbox:
/_sandbox/ answers only known Hosts (DNS rebinding), refuses state changes from another origin
or site, and needs JSON for them. The wire API answers real clients as before."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from tests.conftest import DEMO, START
from tests.specs import SPECS

EVIL = "http://evil.example"
WIRE_AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}


def sandbox(**settings: Any) -> TestClient:
    app = create_app(Settings(store="memory", clock_start=START, clock_rate=0, **settings), SPECS)
    return TestClient(app, base_url="http://127.0.0.1:8080")


def test_a_cross_site_text_reset_is_refused() -> None:
    with sandbox() as client:
        client.post("/_sandbox/shops", json={})
        refused = client.post(
            "/_sandbox/reset",
            content=b"{}",
            headers={"Content-Type": "text/plain", "Origin": EVIL},
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "permission_denied"
        assert "evil.example" in refused.json()["msg"]
        # Same origin, but not JSON: what a form could send.
        plain = client.post(
            "/_sandbox/reset", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        assert plain.status_code == 404 and plain.json()["code"] == "bad_route"
        assert client.get("/_sandbox/health").json()["shops"] == 2  # nothing was reset
        ok = client.post("/_sandbox/reset", json={}, headers={"Origin": "http://127.0.0.1:8080"})
        assert ok.status_code == 200 and ok.json()["shops"] == 1


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_sec_fetch_site_from_elsewhere_is_refused(site: str) -> None:
    with sandbox() as client:
        refused = client.post(
            "/_sandbox/clock", json={"advance": "1m"}, headers={"Sec-Fetch-Site": site}
        )
        assert refused.status_code == 403
        for fine in ("same-origin", "none"):
            moved = client.post(
                "/_sandbox/clock", json={"advance": "1m"}, headers={"Sec-Fetch-Site": fine}
            )
            assert moved.status_code == 200


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1:9999", "https://127.0.0.1:8080"])
def test_any_other_origin_is_refused(origin: str) -> None:
    with sandbox() as client:
        refused = client.post("/_sandbox/webhooks/drain", json={}, headers={"Origin": origin})
        assert refused.status_code == 403


def test_unknown_hosts_are_refused_on_sandbox_paths_only() -> None:
    with sandbox() as client:
        for path in ("/_sandbox/journal", "/_sandbox/ui", "/_sandbox/ui/journal"):
            rebound = client.get(path, headers={"Host": "evil.example:8080"})
            assert rebound.status_code == 403, path
            assert rebound.json()["code"] == "permission_denied"
        for host in ("localhost:8080", "127.0.0.1:8080", "[::1]:8080", "app.localhost"):
            assert client.get("/_sandbox/health", headers={"Host": host}).status_code == 200
        # Real clients of the wire API are served whatever name they use.
        wire = client.post(
            "/v1/shop.Zalo/ListRequestConsent",
            json={},
            headers={**WIRE_AUTH, "Host": "sandbox.internal", "Origin": EVIL},
        )
        assert wire.status_code == 200


def test_allowed_hosts_and_the_address_reached_are_answered() -> None:
    with sandbox(allowed_hosts="host.docker.internal, sandbox.lan") as client:
        for host in ("host.docker.internal", "sandbox.lan:8080"):
            assert client.get("/_sandbox/health", headers={"Host": host}).status_code == 200
        assert client.get("/_sandbox/health", headers={"Host": "evil.example"}).status_code == 403
    with sandbox(allowed_hosts="*") as client:
        assert client.get("/_sandbox/health", headers={"Host": "evil.example"}).status_code == 200
    # TestClient's requests arrive on "testserver": the address a request came in on is allowed.
    with TestClient(create_app(Settings(store="memory"))) as client:
        assert client.get("/_sandbox/health").status_code == 200


def test_a_browser_signs_in_with_the_control_token() -> None:
    with sandbox(control_token="s3cret") as client:
        page = client.get("/_sandbox/ui")
        assert page.status_code == 401 and 'type="password"' in page.text
        assert client.get("/_sandbox/ui", headers={"Accept": "application/json"}).status_code == 401
        wrong = client.post(
            "/_sandbox/ui/login",
            content=b"token=nope",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert wrong.status_code == 401
        signed = client.post(
            "/_sandbox/ui/login",
            content=b"token=s3cret",
            follow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_sandbox" in cookie
        # The cookie opens the inspector and its buttons' control calls.
        assert client.get("/_sandbox/ui").status_code == 200
        assert client.post("/_sandbox/clock", json={"advance": "1m"}).status_code == 200
        client.cookies.clear()
        assert client.post("/_sandbox/clock", json={"advance": "1m"}).status_code == 401
        # Signing in from another site is refused before the token is even looked at.
        foreign = client.post(
            "/_sandbox/ui/login",
            content=b"token=s3cret",
            headers={"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert foreign.status_code == 403
