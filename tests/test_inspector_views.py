"""The inspector's views over HTTP, without a browser: each answers JSON and reads as
server-rendered HTML (no script needed), from the store's own state."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import DEMO, Api, move_clock

UI = "/_sandbox/ui"
JSON = {"Accept": "application/json"}
SHOP = DEMO.demo_shop_id


def view(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(UI + path, params=params, headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_view_reads_as_html_and_as_json(client: TestClient, api: Api) -> None:
    made = api.request_consent(phone="0912345678")
    for path in (
        "",
        f"/shops/{SHOP}/consents",
        f"/shops/{SHOP}/coverage",
        f"/consents/{made['id']}",
        "/clock",
        "/rules",
        "/faults",
        "/outbox",
        "/journal",
    ):
        page = client.get(UI + path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert "<main" in page.text and 'id="live"' in page.text
        assert "http://" not in re.sub(r'href="http://testserver', "", page.text.split("<body")[0])
        assert client.get(UI + path, headers=JSON).headers["content-type"] == "application/json"
        fragment = client.get(UI + path, params={"fragment": 1})
        assert "<html" not in fragment.text and fragment.status_code == 200


def test_shops_show_keys_masked_until_revealed(client: TestClient) -> None:
    client.post("/_sandbox/shops", json={"name": "Hoa Sen", "oa_ids": ["42"]})
    page = client.get(UI).text
    assert "1000000000000000001:••••" in page
    assert re.search(r"<details[^>]*><summary>.*1000000000000000001:••••", page)
    shops = view(client, "")["shops"]
    assert [s["name"] for s in shops] == ["Sandbox Demo Shop", "Hoa Sen"]
    assert shops[1]["oas"] == [{"oa_id": "42", "name": "Hoa Sen", "webhook_url": ""}]


def test_consents_filter_like_the_wire_api_and_page(client: TestClient, api: Api) -> None:
    for n in range(5):
        api.request_consent(phone=f"091234567{n}", call_type="video" if n % 2 else "audio")
    found = view(client, f"/shops/{SHOP}/consents", phone="+84912345673")
    assert [c["phone"] for c in found["consents"]] == ["0912345673"]
    videos = view(client, f"/shops/{SHOP}/consents", call_type="video", sort="created_at")
    assert [c["phone"] for c in videos["consents"]] == ["0912345671", "0912345673"]
    first = view(client, f"/shops/{SHOP}/consents", limit=2)
    assert len(first["consents"]) == 2 and first["paging"]["next"]
    second = view(client, f"/shops/{SHOP}/consents", limit=2, after=first["paging"]["next"])
    assert second["consents"][0]["id"] != first["consents"][1]["id"]
    html = client.get(f"{UI}/shops/{SHOP}/consents", params={"limit": 2}).text
    assert 'rel="after"' in html and html.count("data-consent-id=") == 2


def test_a_bad_filter_is_refused_with_its_field(client: TestClient) -> None:
    refused = client.get(f"{UI}/shops/{SHOP}/consents", params={"call_type": "fax"}, headers=JSON)
    assert refused.status_code == 400
    assert refused.json()["meta"] == {"argument": "filter.call_type"}
    page = client.get(f"{UI}/shops/{SHOP}/consents", params={"reply_status": "X"})
    assert page.status_code == 400 and "filter.reply_status" in page.text
    missing = client.get(f"{UI}/shops/99/consents", headers=JSON)
    assert missing.status_code == 404 and missing.json()["meta"] == {"argument": "shop_id"}


def test_a_timeline_shows_what_happened_and_what_is_planned(live: TestClient) -> None:
    api = Api(live, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
    live.put(
        "/_sandbox/webhooks",
        json={"shop_id": str(SHOP), "oa_id": api.oa_id, "url": "http://127.0.0.1:9/hook"},
    )
    made = api.request_consent(phone="0900000001")  # agrees after a minute
    before = view(live, f"/consents/{made['id']}")
    assert [(s["what"], s["planned"]) for s in before["steps"]] == [
        ("created", False),
        ("received", True),
        ("seen", True),
        ("agreed", True),  # its deadline is left out: the planned answer makes it moot
    ]
    move_clock(live, advance="2m")
    after = view(live, f"/consents/{made['id']}")
    done = [(s["what"], s["at"]) for s in after["steps"] if not s["planned"]]
    assert done == [
        ("created", "2026-01-01T00:00:00Z"),
        ("received", "2026-01-01T00:00:05Z"),
        ("seen", "2026-01-01T00:00:30Z"),
        ("agreed", "2026-01-01T00:01:00Z"),
    ]
    assert [s["what"] for s in after["steps"] if s["planned"]] == ["expired"]
    events = [(w["event"]["event_name"], w["consent_id"]) for w in after["webhooks"]]
    assert events == [("oa_send_consent", made["id"]), ("user_reply_consent", made["id"])]
    html = live.get(f"{UI}/consents/{made['id']}").text
    assert "in 29d" in html and "2026-01-31T00:01:00Z" in html  # 30 days from the answer


def test_the_clock_view_lists_the_events_due_next(live: TestClient) -> None:
    api = Api(live, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
    first = api.request_consent(phone="0900000001")
    api.request_consent(phone="0900000002")
    clock = view(live, "/clock")
    assert clock["clock"] == {
        "now": "2026-01-01T00:00:00Z",
        "now_ms": 1767225600000,
        "rate": 0,
        "frozen": True,
    }
    due = [e["due"] for e in clock["next_due"]]
    assert due == sorted(due) and due[0] == "2026-01-01T00:00:05Z"
    assert clock["next_due"][0]["consent_id"] == first["id"]
    assert "in 5s" in live.get(f"{UI}/clock").text


def test_the_faults_view_shows_each_rule_with_its_counts(client: TestClient, api: Api) -> None:
    rule = {
        "id": "busy-twice",
        "match": {"operation": "RequestConsent"},
        "action": {"error": {"code": "unavailable"}},
        "when": {"times": 2},
    }
    added = client.post("/_sandbox/faults", json={"fault": rule})
    assert added.status_code == 201, added.text
    api.request_consent(expect=503)
    data = view(client, "/faults")
    assert data["available"] is True
    (shown,) = data["faults"]["global"]
    assert (shown["id"], shown["hits"], shown["remaining"]) == ("busy-twice", 1, 1)
    html = client.get(f"{UI}/faults").text
    assert "Global faults (1)" in html and "busy-twice" in html and "unavailable" in html


def test_the_journal_view_marks_the_refused_field(client: TestClient, api: Api) -> None:
    api.page(expect=400, filter={"call_type": "fax"})
    api.request_consent()
    requests = view(client, "/journal", status="errors")["requests"]
    assert [r["status"] for r in requests] == [400]
    assert requests[0]["seq"] >= 1 and requests[0]["duration_ms"] >= 0
    html = client.get(f"{UI}/journal").text
    assert '<mark class="refused"' in html and "filter.call_type" in html
    assert "$API_KEY" in html and DEMO.demo_api_key not in html
    # The inspector's own pages are not journaled.
    assert all(not r["path"].startswith(UI) for r in view(client, "/journal")["requests"])
