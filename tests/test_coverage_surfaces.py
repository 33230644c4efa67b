"""Coverage where people read it: the inspector's coverage view of a shop, and
`etelecom-sandbox coverage` against a running sandbox (both commands run in this process, the
server in a thread)."""

from __future__ import annotations

import json
import re

import httpx
from starlette.testclient import TestClient

from tests.conftest import DEMO, DEMO_OA, Api, new_shop
from tests.processes import invoke, serving_in_process

UI = "/_sandbox/ui"
SHOP = DEMO.demo_shop_id
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}


def test_the_inspector_shows_a_shop_s_coverage(client: TestClient, api: Api) -> None:
    first = api.request_consent(phone="0912000001")
    again = api.request_consent(phone="0912000001")  # while the first waits: misuse
    assert api.call("CheckConsent", {"oa_id": DEMO_OA, "phone": "0912000009"}).json()["error"] == 20
    other = new_shop(client)
    other.request_consent(phone="0912000002")
    shops = client.get(UI).text
    assert f'href="{UI}/shops/{SHOP}/coverage"' in shops
    page = client.get(f"{UI}/shops/{SHOP}/coverage").text
    assert "reached 1 of 39 outcomes (2.6 %) over 1 shop" in page
    rows = dict(
        re.findall(
            r'<tr data-item="([^"]+)"><td>[^<]*</td><td><span class="badge '
            r'[^"]+">(\w+)</span>',
            page,
        )
    )
    assert len(rows) == 39 and rows["check.20"] == "reached"
    assert {k for k, v in rows.items() if v == "reached"} == {"check.20"}
    misuse = re.search(r'<li data-rule="ask_while_waiting">(.*?)</li>', page)
    assert misuse is not None
    assert f'href="{UI}/consents/{again["id"]}"' in misuse.group(1)
    assert first["id"] not in misuse.group(1)
    assert 'data-call="POST /_sandbox/coverage/reset"' in page
    data = client.get(f"{UI}/shops/{SHOP}/coverage", headers={"Accept": "application/json"})
    assert data.json() == client.get("/_sandbox/coverage", params={"shop_id": SHOP}).json()
    assert client.get(f"{UI}/shops/42/coverage").status_code == 404


def test_the_cli_prints_a_running_sandbox_s_coverage() -> None:
    with serving_in_process(["--store", "memory"]) as (url, _):
        body = {
            "oa_id": DEMO_OA,
            "phone": "0900000004",
            "call_type": "audio",
            "reason_code": "update_order",
        }
        made = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=AUTH).json()
        markdown = invoke(["coverage", "--base-url", url, "--format", "markdown"])
        text = invoke(["coverage", "--base-url", url, "--shop-id", str(SHOP)])
        as_json = invoke(["coverage", "--base-url", url, "--format", "json"])
        failing = invoke(["coverage", "--base-url", url, "--fail-under", "5"])
        missing = invoke(["coverage", "--base-url", url, "--shop-id", "42"])
    assert markdown.returncode == 0, markdown.stderr
    lines = markdown.stdout.splitlines()
    assert lines[0] == "reached 1 of 39 outcomes (2.6 %) over 1 shop"
    assert lines[2:4] == [
        "| group | item | reached | count | example |",
        "| --- | --- | --- | --- | --- |",
    ]
    assert f"| Consent outcomes | failed -213 (no_zalo) | yes | 1 | consent {made['id']} |" in lines
    assert "| Paging | paging back to the first page | NO | 0 |  |" in lines
    assert text.returncode == 0 and text.stdout.splitlines()[0] == lines[0]
    assert re.search(rf"failed -213 \(no_zalo\)\s+yes\s+1\s+consent {made['id']}", text.stdout)
    assert json.loads(as_json.stdout)["reached"] == 1
    assert failing.returncode == 1
    assert missing.returncode == 2
    assert missing.stderr.startswith("etelecom-sandbox: error: ") and "404" in missing.stderr
