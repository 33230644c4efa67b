"""ListRequestConsent: all ten filters, sorting, the limit rules and cursor paging."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Api, move_clock, new_shop

PHONES = ["0912345678", "0987654321", "0933333333"]
CALLS = ["audio", "video", "audio_and_video"]
REASONS = ["product_service_consulting", "update_order", "flight_announcement"]


def seed(api: Api, client: TestClient, count: int) -> list[dict[str, Any]]:
    """`count` consents over phones, call types and reasons, one minute apart."""
    made = []
    combos = itertools.cycle(itertools.product(PHONES, CALLS, REASONS))
    for _, (phone, call, reason) in zip(range(count), combos, strict=False):
        made.append(api.request_consent(phone=phone, call_type=call, reason_code=reason))
        move_clock(client, advance="1m")
    return made


def ids(page: dict[str, Any]) -> list[str]:
    return [c["id"] for c in page["consents"]]


def test_default_order_is_newest_first_with_limit_100(client: TestClient, api: Api) -> None:
    made = seed(api, client, 5)
    page = api.page()
    assert ids(page) == [c["id"] for c in reversed(made)]
    assert page["paging"] == {
        "after": ".",
        "before": "",
        "limit": 100,
        "next": "",
        "prev": "",
        "sort": "-created_at",
    }


@pytest.mark.parametrize(
    ("asked", "given"), [(0, 100), (None, 100), (101, 100), (10**6, 100), (7, 7), (100, 100)]
)
def test_limit_is_defaulted_and_clamped(api: Api, asked: int | None, given: int) -> None:
    assert api.page(paging={"limit": asked})["paging"]["limit"] == given


@pytest.mark.parametrize(("asked", "given"), [(1.0, 1), (47.0, 47), (2.0e2, 100)])
def test_a_whole_number_written_with_a_point_is_a_limit(
    client: TestClient, api: Api, asked: float, given: int
) -> None:
    seed(api, client, 2)
    page = api.page(paging={"limit": asked})
    assert page["paging"]["limit"] == given
    assert len(page["consents"]) == min(given, 2)


def test_limit_caps_the_page(client: TestClient, api: Api) -> None:
    seed(api, client, 3)
    page = api.page(paging={"limit": 2})
    assert len(page["consents"]) == 2 and page["paging"]["next"]


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "updated_at", "-updated_at"])
def test_sort_orders(client: TestClient, api: Api, sort: str) -> None:
    made = seed(api, client, 4)
    expected = [c["id"] for c in made]
    if sort.startswith("-"):
        expected.reverse()
    page = api.page(paging={"sort": sort})
    assert ids(page) == expected
    assert page["paging"]["sort"] == sort


def test_each_filter(client: TestClient, api: Api) -> None:
    made = seed(api, client, 27)
    other_oa = new_shop(client, api_key="k2", shop_key="sk2", oa_ids=[api.oa_id, "99"])
    other_oa.request_consent(oa_id="99")

    def expect(filter_: dict[str, Any], keep: Any) -> None:
        wanted = [c["id"] for c in reversed(made) if keep(c)]
        assert ids(api.page(filter=filter_)) == wanted, filter_

    expect({"phone": "84987654321"}, lambda c: c["phone"] == "0987654321")
    expect({"call_type": "video"}, lambda c: c["call_type"] == "video")
    expect({"reason_code": "update_order"}, lambda c: c["reason_code"] == "update_order")
    expect({"oa_id": api.oa_id}, lambda c: True)
    expect({"oa_id": "99"}, lambda c: False)  # another shop's consent on that OA stays hidden
    user = made[1]["user_id"]
    expect({"user_id": user}, lambda c: c["user_id"] == user)
    expect({"user_id": int(user)}, lambda c: c["user_id"] == user)
    expect({"status": "P"}, lambda c: True)
    expect({"status": "N"}, lambda c: False)
    expect({"reply_status": "S"}, lambda c: True)
    expect({"reply_status": "NS"}, lambda c: False)
    expect({"is_charged": True}, lambda c: True)
    expect({"is_charged": False}, lambda c: False)
    start, end = made[3]["created_at"], made[6]["created_at"]
    expect({"date_from": start}, lambda c: c["created_at"] >= start)
    expect({"date_to": end}, lambda c: c["created_at"] < end)
    expect({"date_from": start, "date_to": end}, lambda c: start <= c["created_at"] < end)
    expect(
        {"phone": "0912345678", "call_type": "audio", "date_from": start},
        lambda c: (
            c["phone"] == "0912345678" and c["call_type"] == "audio" and c["created_at"] >= start
        ),
    )


def test_date_filter_accepts_offsets(client: TestClient, api: Api) -> None:
    made = seed(api, client, 3)
    # 07:01 in Hanoi is 00:01 UTC: the second consent's creation time.
    page = api.page(filter={"date_from": "2026-01-01T07:01:00+07:00"})
    assert ids(page) == [made[2]["id"], made[1]["id"]]


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "updated_at"])
def test_walk_forward_and_back_while_consents_are_created(
    client: TestClient, api: Api, sort: str
) -> None:
    made = seed(api, client, 45)
    forward: list[str] = []
    pages: list[dict[str, Any]] = []
    after = "."
    while True:
        page = api.page(paging={"after": after, "limit": 10, "sort": sort})
        pages.append(page)
        forward += ids(page)
        # New consents arrive during the walk; they sort after everything seen so far
        # (ascending) or before the first page (descending), so nothing is missed or repeated.
        api.request_consent(phone="0911000001")
        if not page["paging"]["next"]:
            break
        after = page["paging"]["next"]
    original = [c["id"] for c in made]
    assert len(forward) == len(set(forward))
    assert set(original) <= set(forward)
    if sort.startswith("-"):
        assert forward == list(reversed(original))
    assert len(pages) >= 5
    assert pages[0]["paging"]["prev"] == "" and pages[1]["paging"]["prev"]

    # And back again from the last page (`before: "."`) via `prev`.
    page = api.page(paging={"before": ".", "limit": 10, "sort": sort})
    backward = ids(page)
    while page["paging"]["prev"]:
        page = api.page(paging={"before": page["paging"]["prev"], "limit": 10, "sort": sort})
        backward = ids(page) + backward
    # Nothing is created during the walk back: it sees exactly today's full list, in order.
    assert backward == api.walk(sort=sort, limit=7)
    assert [i for i in backward if i in set(forward)] == forward


def test_before_dot_is_the_last_page(client: TestClient, api: Api) -> None:
    made = seed(api, client, 25)
    page = api.page(paging={"before": ".", "limit": 10, "sort": "created_at"})
    assert ids(page) == [c["id"] for c in made[-10:]]
    assert page["paging"]["next"] == "" and page["paging"]["prev"]
    earlier = api.page(paging={"before": page["paging"]["prev"], "limit": 10, "sort": "created_at"})
    assert ids(earlier) == [c["id"] for c in made[-20:-10]]
    assert earlier["paging"]["next"]
    following = api.page(
        paging={"after": earlier["paging"]["next"], "limit": 10, "sort": "created_at"}
    )
    assert ids(following) == ids(page)


def test_backward_walk_reaches_the_first_item(client: TestClient, api: Api) -> None:
    made = seed(api, client, 23)
    seen: list[str] = []
    cursor = "."
    while True:
        page = api.page(paging={"before": cursor, "limit": 5})
        seen = ids(page) + seen
        if not page["paging"]["prev"]:
            break
        cursor = page["paging"]["prev"]
    assert seen == [c["id"] for c in reversed(made)]


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ.AAAA", "a.b.c", "...", "💥"])
def test_malformed_cursor_is_invalid_argument(api: Api, cursor: str) -> None:
    for key in ("after", "before"):
        response = api.call("ListRequestConsent", {"paging": {key: cursor}})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_argument"
        assert response.json()["meta"] == {"argument": f"paging.{key}"}


def test_foreign_cursors_are_refused(client: TestClient, api: Api) -> None:
    seed(api, client, 3)
    other = new_shop(client)
    other.request_consent()
    other.request_consent()
    theirs = other.page(paging={"limit": 1})["paging"]["next"]
    assert theirs
    response = api.call("ListRequestConsent", {"paging": {"after": theirs, "limit": 1}})
    assert response.status_code == 400 and "another shop" in response.json()["msg"]
    mine = api.page(paging={"limit": 1})["paging"]["next"]
    other_sort = api.call(
        "ListRequestConsent", {"paging": {"after": mine, "limit": 1, "sort": "updated_at"}}
    )
    assert other_sort.status_code == 400
    tampered = mine[:-2] + ("AA" if not mine.endswith("AA") else "BB")
    assert api.call("ListRequestConsent", {"paging": {"after": tampered}}).status_code == 400


def test_after_and_before_together_is_invalid(client: TestClient, api: Api) -> None:
    seed(api, client, 3)
    page = api.page(paging={"limit": 1})
    cursor = page["paging"]["next"]
    response = api.call("ListRequestConsent", {"paging": {"after": cursor, "before": cursor}})
    assert response.status_code == 400
    assert response.json()["meta"] == {"argument": "paging"}


def test_a_page_shows_a_change_the_frozen_clock_did_not_date(client: TestClient, api: Api) -> None:
    """A page's consents are encoded once per stored row and kept: a change that leaves
    `updated_at` as it was (the clock did not move) is still what the next page shows."""
    made = api.request_consent(phone=PHONES[0])
    first = api.page()["consents"][0]
    for action in ("received", "seen", "agree"):
        forced = client.post("/_sandbox/force", json={"consent_id": made["id"], "action": action})
        assert forced.status_code == 200, forced.text
    again = api.page()["consents"][0]
    assert again["updated_at"] == first["updated_at"]  # the same virtual instant
    assert (first["reply_status"], again["reply_status"]) == ("S", "P")
    assert again["delivery_status"] == "seen" != first["delivery_status"]
