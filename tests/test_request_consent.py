"""RequestConsent: what is stored and returned."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import DEMO, START, Api, move_clock, new_shop


def test_a_new_consent_is_waiting_and_charged(api: Api) -> None:
    c = api.request_consent(call_type="video", reason_code="flight_announcement")
    assert c["id"].isdigit() and c["user_id"].isdigit()
    assert c["shop_id"] == str(DEMO.demo_shop_id)
    assert c["oa_id"] == api.oa_id
    assert (c["status"], c["reply_status"], c["delivery_status"]) == ("P", "S", "unknown")
    assert (c["call_type"], c["reason_code"]) == ("video", "flight_announcement")
    assert c["is_charged"] is True
    assert (c["error_code"], c["error_message"]) == (0, "")
    assert c["created_at"] == c["updated_at"] == START
    assert c["expires_at"] == "2026-01-02T00:00:00Z"  # 24 h reply window
    assert c["delivery_time"] is None


def test_ids_are_unique_strings_and_user_id_is_stable_per_oa_and_phone(
    client: TestClient, api: Api
) -> None:
    a = api.request_consent(phone="0912345678")
    b = api.request_consent(phone="+84912345678")
    c = api.request_consent(phone="0987654321")
    assert len({a["id"], b["id"], c["id"]}) == 3
    assert a["user_id"] == b["user_id"] != c["user_id"]
    other = new_shop(client, oa_ids=["555"])
    assert other.request_consent(phone="0912345678")["user_id"] != a["user_id"]


def test_oa_id_as_number_is_accepted_and_returned_as_string(api: Api) -> None:
    assert api.request_consent(oa_id=int(api.oa_id))["oa_id"] == api.oa_id


@pytest.mark.parametrize("phone", ["0912345678", "84912345678", "+84912345678"])
def test_every_vietnamese_form_is_accepted_and_found_by_any_form(api: Api, phone: str) -> None:
    created = api.request_consent(phone=phone)
    assert created["phone"] == phone
    for form in ("0912345678", "84912345678", "+84912345678"):
        found = api.page(filter={"phone": form})["consents"]
        assert [c["id"] for c in found] == [created["id"]]


def test_times_follow_the_clock(client: TestClient, api: Api) -> None:
    move_clock(client, advance="1h30m")
    c = api.request_consent()
    assert c["created_at"] == "2026-01-01T01:30:00Z"
    assert c["expires_at"] == "2026-01-02T01:30:00Z"
