"""Real clients work unchanged: the requests the public n8n community package
`n8n-nodes-etelecom` 0.3.0 sends (fixtures/clients/n8n-node-requests.jsonl, recorded from its
source: headers and bodies byte for byte) are replayed against a served sandbox, and what that
client reads back is checked as it reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from mock_server.spec import data_dir
from tests.conftest import DEMO, START
from tests.specs import SPECS

RECORDED = data_dir("fixtures") / "clients" / "n8n-node-requests.jsonl"
# n8n's credential "domain" is the base URL up to /v1; the nodes append `/shop.Zalo/<Method>`.
IN_SCOPE = {"CurrentAccount", "ListOA", "RequestConsent", "CheckConsent", "UpdateShopOA"}


def recorded() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in RECORDED.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    settings = Settings(store="memory", clock_start=START, clock_rate=0)
    with ThreadedServer(create_app(settings, SPECS)) as server:
        yield server.url


def replay(http: httpx.Client, request: dict[str, Any]) -> httpx.Response:
    """One recorded request, as the client sent it, with the demo shop's key."""
    headers = {
        name: value.replace("<api_key>", DEMO.demo_api_key)
        for name, value in request["headers"].items()
    }
    return http.request(
        request["method"], request["path"], content=request["body"].encode(), headers=headers
    )


def method_of(request: dict[str, Any]) -> str:
    return str(request["path"].rsplit("/", 1)[-1])


def test_the_recording_is_the_one_the_docs_describe() -> None:
    requests = recorded()
    assert [method_of(r) for r in requests[:2]] == ["CurrentAccount", "ListOA"]
    assert all(r["method"] == "POST" and r["path"].startswith("/v1/shop.") for r in requests)
    assert all(r["headers"]["authorization"] == "Bearer <api_key>" for r in requests)
    assert {method_of(r) for r in requests} >= IN_SCOPE | {"OASendText", "SendZNS"}


def test_the_n8n_nodes_work_unchanged(sandbox: str) -> None:
    checks: list[dict[str, Any]] = []
    webhook_urls: list[str] = []
    with httpx.Client(base_url=sandbox, timeout=30) as http:
        for request in recorded():
            method = method_of(request)
            if method == "CheckConsent" and checks:
                # The recording checks twice around a clock move: the magic phone agrees at 1m.
                moved = http.post("/_sandbox/clock", json={"advance": "2m"})
                assert moved.status_code == 200, moved.text
            response = replay(http, request)
            if method not in IN_SCOPE:
                # Other nodes (messages, ZNS, templates): not simulated, said clearly.
                assert response.status_code == 501, (method, response.text)
                error = response.json()
                assert error["code"] == "unimplemented" and "RequestConsent" in error["msg"]
                continue
            # The client reads errors by status only: everything in scope must be 2xx.
            assert response.is_success, (method, response.status_code, response.text)
            body = response.json()
            if method == "ListOA":
                accounts = body["accounts"]  # "Invalid response from ETelecom API" otherwise
                assert isinstance(accounts, list) and accounts
                for account in accounts:
                    assert isinstance(account["oa_id"], str) and account["oa_id"].isdigit()
                    assert isinstance(account["name"], str) and account["name"]
                mine = [a for a in accounts if a["oa_id"] == str(DEMO.demo_oa_ids[0])]
                assert len(mine) == 1  # compared with === to the OA the node was given
                webhook_urls.append(mine[0]["webhook_url"])
            elif method == "UpdateShopOA":
                sent = orjson.loads(request["body"])
                assert body["oa_id"] == sent["oa_id"]  # "Failed to register webhook" otherwise
                assert body["webhook_url"] == sent["webhook_url"]
            elif method == "CheckConsent":
                checks.append(body)
    # Credential test, dropdowns, RequestConsent, then CheckConsent before and after agreement.
    assert [c["error"] for c in checks] == [2, 0]
    # The Trigger registers, finds its URL with checkExists, then unregisters.
    assert "http://127.0.0.1:9/hook" in webhook_urls
    assert webhook_urls[-1] == "http://127.0.0.1:9/hook"
    with httpx.Client(base_url=sandbox, timeout=30) as http:
        listed = replay(http, recorded()[1]).json()["accounts"]
    assert [a["webhook_url"] for a in listed if a["oa_id"] == str(DEMO.demo_oa_ids[0])] == [""]


def test_unknown_methods_stay_bad_route(sandbox: str) -> None:
    auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
    for path in (
        "/v1/shop.Zalo/NoSuchMethod",
        "/v1/shop.NoService/ListOA",
        "/v1/other.Zalo/SendZNS",
    ):
        response = httpx.post(f"{sandbox}{path}", json={}, headers=auth)
        assert response.status_code == 404 and response.json()["code"] == "bad_route", path
    for path in ("/v1/partner.Zalo/SendZNS", "/v1/shop.Etelecom/GetCallLogs"):
        response = httpx.post(f"{sandbox}{path}", json={}, headers=auth)
        assert response.status_code == 501 and response.json()["code"] == "unimplemented", path
    assert httpx.get(f"{sandbox}/v1/shop.Zalo/SendZNS").json()["code"] == "bad_route"
