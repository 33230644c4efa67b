"""Validation from the spec: the field path and the allowed values in every message."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import DEMO, DEMO_OA, Api


@pytest.fixture
def refusing(refusing_client: TestClient) -> Api:
    """The demo shop, for requests validation refuses (before any store is asked)."""
    return Api(refusing_client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)


def error(api: Api, method: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.call(method, body)
    assert response.status_code == 400, response.text
    result: dict[str, Any] = response.json()
    assert result["code"] == "invalid_argument"
    return result


@pytest.mark.parametrize(
    ("filter_", "path", "mentions"),
    [
        ({"call_type": "fax"}, "filter.call_type", ['"audio"', '"video"', '"audio_and_video"']),
        ({"reason_code": "x"}, "filter.reason_code", ['"update_order"', '"flight_announcement"']),
        ({"reply_status": "Q"}, "filter.reply_status", ['"S"', '"NS"', '"P"', '"N"']),
        ({"status": "S"}, "filter.status", ['"P"', '"N"']),
        ({"phone": "12345"}, "filter.phone", ["Vietnamese phone number"]),
        ({"oa_id": "abc"}, "filter.oa_id", ["int64"]),
        ({"oa_id": 1.5}, "filter.oa_id", ["integer"]),
        ({"user_id": True}, "filter.user_id", ["integer"]),
        ({"is_charged": "yes"}, "filter.is_charged", ["boolean"]),
        ({"date_from": "yesterday"}, "filter.date_from", ["date-time"]),
        ({"date_to": 5}, "filter.date_to", ["string"]),
    ],
)
def test_bad_filter_names_path_and_allowed_values(
    refusing: Api, filter_: dict[str, Any], path: str, mentions: list[str]
) -> None:
    result = error(refusing, "ListRequestConsent", {"filter": filter_})
    assert result["msg"].startswith(path + " ")
    assert result["meta"] == {"argument": path}
    for text in mentions:
        assert text in result["msg"]


@pytest.mark.parametrize(
    ("paging", "path"),
    [
        ({"limit": -1}, "paging.limit"),
        ({"limit": "ten"}, "paging.limit"),
        ({"sort": "id"}, "paging.sort"),
        ({"sort": "-id"}, "paging.sort"),
        ({"sort": "created_at,updated_at"}, "paging.sort"),
        ({"sort": "phone"}, "paging.sort"),
        ({"after": 5}, "paging.after"),
    ],
)
def test_bad_paging(refusing: Api, paging: dict[str, Any], path: str) -> None:
    result = error(refusing, "ListRequestConsent", {"paging": paging})
    assert result["meta"]["argument"] == path


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 555 0100"}, "phone"),
        ({"phone": 912345678}, "phone"),
        ({"call_type": "unknown"}, "call_type"),
        ({"reason_code": "unknown"}, "reason_code"),
        ({"oa_id": "0"}, "oa_id"),
        ({"oa_id": None}, "oa_id"),
        ({"oa_id": "99999999999999999999"}, "oa_id"),
        ({"oa_id": "9999999999999999999"}, "oa_id"),
        ({"oa_id": "9223372036854775808"}, "oa_id"),  # 2^63: one past int64
        ({"oa_id": 9223372036854775808}, "oa_id"),
        ({"oa_id": "0123"}, "oa_id"),
    ],
)
def test_bad_request_consent_fields(refusing: Api, change: dict[str, Any], path: str) -> None:
    body = {
        "oa_id": refusing.oa_id,
        "phone": "0912345678",
        "call_type": "audio",
        "reason_code": "update_order",
        **change,
    }
    result = error(refusing, "RequestConsent", body)
    assert result["meta"] == {"argument": path}
    assert result["msg"].startswith(path + " ")


@pytest.mark.parametrize("missing", ["oa_id", "phone", "call_type", "reason_code"])
def test_missing_required_field(refusing: Api, missing: str) -> None:
    body = {
        "oa_id": refusing.oa_id,
        "phone": "0912345678",
        "call_type": "audio",
        "reason_code": "update_order",
    }
    del body[missing]
    result = error(refusing, "RequestConsent", body)
    assert result["msg"] == f"{missing} is required"


def test_unknown_extra_fields_are_ignored(api: Api) -> None:
    created = api.request_consent(note="extra", nested={"a": 1})
    assert "note" not in created
    page = api.page(filter={"phone": "0912345678", "colour": "blue"}, extra=[1, 2])
    assert [c["id"] for c in page["consents"]] == [created["id"]]


def test_zero_values_and_nulls_in_filter_do_not_filter(api: Api) -> None:
    created = api.request_consent()
    zero = {
        "call_type": "unknown",
        "reason_code": "unknown",
        "status": "Z",
        "reply_status": "Z",
        "oa_id": None,
        "user_id": "0",
        "phone": "",
        "is_charged": None,
        "date_from": None,
    }
    page = api.page(filter=zero, paging=None)
    assert [c["id"] for c in page["consents"]] == [created["id"]]


def test_the_largest_int64_is_accepted(api: Api) -> None:
    page = api.page(filter={"oa_id": "9223372036854775807", "user_id": 9223372036854775807})
    assert page["consents"] == []
