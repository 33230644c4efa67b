"""A wire request is counted the same whichever path answers it: the plain-ASGI fast path
(http/fast_wire.py), which takes a JSON POST no fault can touch, or the whole app
(http/wire_api.py), which takes the rest. The same traffic goes to two sandboxes, one of them
with a fault rule that matches every request and never fires, so that every request takes the
whole app; their coverage must be the same, item by item, with examples that are the same
requests."""

from __future__ import annotations

from typing import Any

from mock_server import create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO_OA, JSON_CALLS
from tests.specs import SPECS
from tests.test_coverage import AUTH, PARTNER, SHOP, Sandbox, settings

# Matches every request of the shop, touches none: each goes through the whole app.
NEVER_FIRES = {
    "id": "never",
    "match": {"operation": "*"},
    "action": {"error": {"code": "internal"}},
    "when": {"probability": 0},
}
# The requests of `traffic` that reach the fault gate: their key was accepted and their body is
# a JSON object (the ones refused before that never meet a fault).
REACHING_THE_GATE = 16


def traffic(sandbox: Sandbox) -> None:
    """Every kind of item a wire request counts as it goes (CheckConsent codes, paging, Twirp
    errors) and the misuse only requests show (a key of the other side, an early retry)."""
    body = {"oa_id": DEMO_OA, "phone": "0912000001"}
    assert sandbox.check("0912000001") == 20
    sandbox.ask("0912000001")
    assert sandbox.check("0912000001") == 2
    assert sandbox.ask("0912000001")["error_code"] == 8  # asked again while the first waits
    for n in range(5):
        sandbox.ask(f"091200010{n}")
    first = sandbox.wire("ListRequestConsent", {"paging": {"limit": 4}}).json()["paging"]
    after = {"paging": {"limit": 4, "after": first["next"]}}
    last = sandbox.wire("ListRequestConsent", after).json()["paging"]
    assert last["next"] == ""
    before = {"paging": {"limit": 4, "before": last["prev"]}}
    assert sandbox.wire("ListRequestConsent", before).json()["paging"]["prev"] == ""
    assert sandbox.wire("CheckConsent", {**body, "phone": "12"}).status_code == 400
    raw = sandbox.http.post(
        "/v1/shop.Zalo/CheckConsent", content=b"{", headers={**AUTH, **JSON_CALLS}
    )
    assert raw.status_code == 400 and raw.json()["code"] == "malformed"
    assert sandbox.wire("CheckConsent", {**body, "oa_id": "77"}).status_code == 404
    assert sandbox.wire("CheckConsent", body, PARTNER).status_code == 401  # the partner key
    partner = "/v1/partner.Zalo/CheckConsent"
    assert sandbox.http.post(partner, json=body, headers=AUTH).status_code == 401  # the shop's
    assert sandbox.wire("CheckConsent", body, {"Authorization": "Bearer nobody"}).status_code == 401
    assert sandbox.http.post(partner, json=body, headers=PARTNER).status_code == 200
    busy = {**AUTH, "X-Sandbox-Fault": "unavailable; retry_after=2s"}
    assert sandbox.wire("ListOA", {}, busy).status_code == 503
    assert sandbox.wire("ListOA", {}).status_code == 200  # at once: sooner than Retry-After


def coverage_of(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each item's and each broken rule's count and example, an example in the journal as the
    request it is (its path, status and body)."""
    report = sandbox.coverage()
    entries = sandbox.http.get("/_sandbox/journal", params={"limit": 1000}).json()["requests"]
    journal = {e["seq"]: (e["path"], e["status"], e["request"]) for e in entries}

    def where(example: dict[str, Any] | None) -> Any:
        if example is not None and "journal_seq" in example:
            return journal[example["journal_seq"]]
        return example

    items = {i["id"]: (i["count"], where(i["example"])) for i in report["items"]}
    misuse = {m["rule"]: (m["count"], where(m["example"])) for m in report["misuse"]}
    return items, misuse


def test_the_fast_path_counts_as_the_whole_app_does() -> None:
    with ThreadedServer(create_app(settings(), SPECS)) as server, Sandbox(server.url) as fast:
        traffic(fast)
        fast_items, fast_misuse = coverage_of(fast)
    with ThreadedServer(create_app(settings(), SPECS)) as server, Sandbox(server.url) as whole:
        whole.control("POST", "faults", {"shop_id": SHOP, "fault": NEVER_FIRES})
        traffic(whole)
        whole_items, whole_misuse = coverage_of(whole)
        (rule,) = whole.http.get("/_sandbox/faults").json()["shops"][SHOP]
    assert (rule["matched"], rule["hits"]) == (REACHING_THE_GATE, 0)
    assert fast_items == whole_items and fast_misuse == whole_misuse
    reached = {k: count for k, (count, _) in fast_items.items() if count}
    assert reached == {
        "consent.duplicate": 1,
        "check.2": 2,  # on the shop route and the partner route
        "check.20": 1,
        "twirp.invalid_argument": 1,
        "twirp.malformed": 1,
        "twirp.not_found": 1,
        "twirp.unauthenticated": 2,  # the two keys of the other side (the unknown is nobody's)
        "twirp.unavailable": 1,
        "fault.request.error": 1,
        "paging.end": 1,
        "paging.back": 1,
    }
    assert fast_items["twirp.malformed"][1] == ("/v1/shop.Zalo/CheckConsent", 400, "{")
    assert fast_misuse["key_for_other_side"][0] == 2
    assert fast_misuse["early_retry"][1] == ("/v1/shop.Zalo/ListOA", 200, {})
    assert set(fast_misuse) == {"key_for_other_side", "early_retry", "ask_while_waiting"}
