"""The specs are injected into create_app: the sandbox follows the spec it is given, and a spec
that lacks a fact the code relies on stops it at start-up with one clear message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.spec import SpecDocument, Specs
from mock_server.spec.facts import SpecMismatch
from tests.conftest import DEMO, DEMO_OA, START
from tests.specs import SPECS

Edit = Callable[[dict[str, Any]], None]


def edited(wire: Edit | None = None, control: Edit | None = None) -> Specs:
    """The bundled specs with an edit applied to a copy of one of them."""
    documents = [copy.deepcopy(SPECS.wire.document), copy.deepcopy(SPECS.control.document)]
    for document, edit in zip(documents, (wire, control), strict=True):
        if edit is not None:
            edit(document)
    return Specs(SpecDocument(documents[0], "wire"), SpecDocument(documents[1], "control"))


def settings() -> Settings:
    return Settings(store="memory", clock_start=START, clock_rate=0)


def test_the_paging_limits_come_from_the_given_spec() -> None:
    def small_pages(document: dict[str, Any]) -> None:
        limit = document["components"]["schemas"]["PagingRequest"]["properties"]["limit"]
        limit["x-default-limit"], limit["x-max-limit"] = 2, 3

    with TestClient(create_app(settings(), specs=edited(wire=small_pages))) as client:
        auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
        for n in range(5):
            body = {
                "oa_id": DEMO_OA,
                "phone": f"091234567{n}",
                "call_type": "audio",
                "reason_code": "update_order",
            }
            assert client.post("/v1/shop.Zalo/RequestConsent", json=body, headers=auth).is_success
        default = client.post("/v1/shop.Zalo/ListRequestConsent", json={}, headers=auth).json()
        clamped = client.post(
            "/v1/shop.Zalo/ListRequestConsent", json={"paging": {"limit": 50}}, headers=auth
        ).json()
    assert len(default["consents"]) == 2 and default["paging"]["limit"] == 2
    assert len(clamped["consents"]) == 3 and clamped["paging"]["limit"] == 3


def test_routes_come_from_the_given_spec() -> None:
    def without_partner_check(document: dict[str, Any]) -> None:
        del document["paths"]["/v1/partner.Zalo/CheckConsent"]

    with TestClient(create_app(settings(), specs=edited(wire=without_partner_check))) as client:
        auth = {"Authorization": f"Bearer {DEMO.demo_shop_key}"}
        body = {"oa_id": DEMO_OA, "phone": "0912345678"}
        gone = client.post("/v1/partner.Zalo/CheckConsent", json=body, headers=auth)
        kept = client.post("/v1/partner.Zalo/ListRequestConsent", json={}, headers=auth)
    assert gone.status_code == 404 and gone.json()["code"] == "bad_route"
    assert kept.status_code == 200


def drop_enum_value(schema: str, value: object, prop: str | None = None) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        node = document["components"]["schemas"][schema]
        node = node["properties"][prop] if prop else node
        node["enum"].remove(value)

    return edit


def _sent_values(document: dict[str, Any]) -> list[str]:
    event = document["components"]["schemas"]["OASendConsentEvent"]["allOf"][1]
    values: list[str] = event["properties"]["request_type"]["enum"]
    return values


def _covered(document: dict[str, Any]) -> list[str]:
    codes: list[str] = document["components"]["schemas"]["TwirpErrorCode"]["x-coverage"]
    return codes


MISMATCHES: dict[str, tuple[Specs, str]] = {
    "reply status": (edited(wire=drop_enum_value("ReplyStatus", "NS")), "ReplyStatus lacks"),
    "check code": (edited(wire=drop_enum_value("CheckConsentCode", 8)), "CheckConsentCode"),
    "outcome": (
        edited(control=drop_enum_value("ScenarioRule", "too_many", "outcome")),
        "ScenarioRule.outcome",
    ),
    "force action": (
        edited(control=drop_enum_value("ForceConsent", "seen", "action")),
        "ForceConsent.action",
    ),
    "outbox state": (edited(control=drop_enum_value("OutboxState", "failed")), "OutboxState"),
    "store kind": (edited(control=drop_enum_value("Health", "sqlite", "store")), "Health.store"),
    "webhook event": (
        edited(wire=lambda d: d["webhooks"].pop("user_reply_consent")),
        "webhooks lacks",
    ),
    "fault action": (
        edited(
            control=lambda d: d["components"]["schemas"]["FaultAction"]["properties"].pop("hang")
        ),
        "FaultAction",
    ),
    "fault phase": (
        edited(control=drop_enum_value("FaultWhen", "after", "phase")),
        "FaultWhen.phase",
    ),
    "retry code": (edited(wire=drop_enum_value("TwirpErrorCode", "unavailable")), "TwirpErrorCode"),
    "webhook value": (
        edited(wire=lambda d: _sent_values(d).remove("EXPIRED")),
        "webhook oa_send_consent.request_type lacks",
    ),
    "coverage code": (
        edited(wire=lambda d: _covered(d).append("teapot")),
        r"TwirpErrorCode \(for x-coverage\) lacks",
    ),
    "coverage retry code": (
        edited(wire=lambda d: _covered(d).remove("resource_exhausted")),
        "TwirpErrorCode.x-coverage lacks",
    ),
    "misuse rule": (
        edited(control=drop_enum_value("CoverageMisuse", "burst", "rule")),
        "CoverageMisuse.rule",
    ),
    "coverage group": (
        edited(control=drop_enum_value("CoverageItem", "paging", "group")),
        "CoverageItem.group",
    ),
}


def test_coverage_items_come_from_the_given_spec() -> None:
    def more_covered(document: dict[str, Any]) -> None:
        _covered(document).append("permission_denied")
        messages = document["components"]["schemas"]["CheckConsentCode"]["x-messages"]
        messages["9"] = "not a follower"

    with TestClient(create_app(settings(), specs=edited(wire=more_covered))) as client:
        items = client.get("/_sandbox/coverage").json()["items"]
    labels = {i["id"]: i["label"] for i in items}
    assert labels["twirp.permission_denied"] == "permission_denied (403)"
    assert labels["check.9"] == "CheckConsent 9 (not a follower)"
    assert len(items) == 40


@pytest.mark.parametrize("case", MISMATCHES)
def test_a_spec_without_a_fact_the_code_needs_stops_start_up(case: str) -> None:
    specs, says = MISMATCHES[case]
    with pytest.raises(SpecMismatch, match=says):
        create_app(settings(), specs=specs)


def test_a_setting_the_spec_cannot_honour_stops_start_up() -> None:
    with pytest.raises(ValueError, match="default_sort"):
        create_app(Settings(store="memory", default_sort="-id"))
    with pytest.raises(ValueError, match="foreign_oa_error"):
        create_app(Settings(store="memory", foreign_oa_error="teapot"))


def test_fault_rules_name_the_operations_and_bounds_of_the_given_spec() -> None:
    def longer_delays(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["FaultDelayDuration"]["x-maximum"] = "3h"

    def without_partner_list_oa(document: dict[str, Any]) -> None:
        del document["paths"]["/v1/partner.Zalo/ListOA"]

    specs = edited(wire=without_partner_list_oa, control=longer_delays)
    with TestClient(create_app(settings(), specs=specs)) as client:
        slow = {"match": {"operation": "ListOA"}, "action": {"delay": {"fixed": "2h"}}}
        assert client.put("/_sandbox/faults", json={"faults": [slow]}).status_code == 200
        gone = {"match": {"operation": "partnerListOA"}, "action": {"drop": True}}
        refused = client.put("/_sandbox/faults", json={"faults": [gone]})
    assert refused.status_code == 400
    assert refused.json()["meta"] == {"argument": "faults[0].match.operation"}
