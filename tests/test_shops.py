"""Shops and keys: each key is one shop's, routes take their own key kind, shops never mix."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import DEMO, Api, new_shop


@pytest.mark.parametrize("partner", [False, True])
def test_missing_or_wrong_key_is_unauthenticated(client: TestClient, partner: bool) -> None:
    prefix = "partner" if partner else "shop"
    path = f"/v1/{prefix}.Zalo/ListRequestConsent"
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
    ):
        response = client.post(path, json={}, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthenticated"


def test_api_key_on_shop_routes_shop_key_on_partner_routes(client: TestClient) -> None:
    def status(prefix: str, key: str) -> int:
        response = client.post(
            f"/v1/{prefix}.Zalo/ListRequestConsent",
            json={},
            headers={"Authorization": f"Bearer {key}"},
        )
        return int(response.status_code)

    assert status("shop", DEMO.demo_api_key) == 200
    assert status("partner", DEMO.demo_shop_key) == 200
    assert status("shop", DEMO.demo_shop_key) == 401
    assert status("partner", DEMO.demo_api_key) == 401


def test_partner_route_acts_for_the_shop_of_its_shop_key(api: Api) -> None:
    created = api.call(
        "RequestConsent",
        {
            "oa_id": api.oa_id,
            "phone": "0987654321",
            "call_type": "video",
            "reason_code": "delivery_notification",
        },
        partner=True,
    ).json()
    assert created["shop_id"] == str(DEMO.demo_shop_id)
    listed = api.page(filter={"phone": "0987654321"})
    assert [c["id"] for c in listed["consents"]] == [created["id"]]


def test_shops_never_see_each_other(client: TestClient, api: Api) -> None:
    other = new_shop(client)
    mine = api.request_consent()
    theirs = other.request_consent(phone="0912345678")
    assert theirs["shop_id"] != mine["shop_id"]
    assert [c["id"] for c in api.page()["consents"]] == [mine["id"]]
    assert [c["id"] for c in other.page()["consents"]] == [theirs["id"]]
    # Nor with the other's OA, filters or cursors.
    assert api.page(filter={"oa_id": other.oa_id})["consents"] == []
    response = api.call(
        "RequestConsent",
        {
            "oa_id": other.oa_id,
            "phone": "0912345678",
            "call_type": "audio",
            "reason_code": "update_order",
        },
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["meta"] == {"argument": "oa_id"}


def test_create_shop_with_chosen_keys_and_oas(client: TestClient) -> None:
    response = client.post(
        "/_sandbox/shops",
        json={
            "shop_id": "77",
            "api_key": "77:my-test-key",
            "shop_key": "shop77:my-shop-key",
            "oa_ids": ["4318410911328651000", 42],
        },
    )
    assert response.status_code == 201, response.text
    shop = response.json()
    name = shop["name"]
    assert name and shop == {
        "shop_id": "77",
        "name": name,
        "api_key": "77:my-test-key",
        "shop_key": "shop77:my-shop-key",
        "oa_ids": ["4318410911328651000", "42"],
        "oas": [
            {"oa_id": "4318410911328651000", "name": name},
            {"oa_id": "42", "name": f"{name} (chi nhánh 2)"},
        ],
    }
    mine = Api(client, "77:my-test-key", "shop77:my-shop-key", "42")
    assert mine.request_consent()["oa_id"] == "42"
    assert mine.request_consent(oa_id=4318410911328651000)["oa_id"] == "4318410911328651000"


def test_created_shops_get_distinct_keys_and_an_oa(client: TestClient) -> None:
    shops = [client.post("/_sandbox/shops", json={}).json() for _ in range(3)]
    assert len({s["shop_id"] for s in shops}) == 3
    assert len({s["api_key"] for s in shops} | {s["shop_key"] for s in shops}) == 6
    for shop in shops:
        assert shop["api_key"].startswith(shop["shop_id"] + ":")
        assert shop["shop_key"].startswith("shop" + shop["shop_id"] + ":")
        assert len(shop["oa_ids"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"api_key": DEMO.demo_api_key},
        {"shop_key": DEMO.demo_shop_key},
        {"shop_id": str(DEMO.demo_shop_id)},
        {"api_key": "same", "shop_key": "same"},
    ],
)
def test_taken_key_or_id_is_already_exists(client: TestClient, body: dict[str, str]) -> None:
    response = client.post("/_sandbox/shops", json=body)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "already_exists"


@pytest.mark.parametrize(
    ("body", "argument"),
    [
        ({"api_key": "has space"}, "api_key"),
        ({"oa_ids": ["x"]}, "oa_ids[0]"),
        ({"shop_id": 0}, "shop_id"),
        ({"oa_ids": "1"}, "oa_ids"),
        ({"name": "\u0000"}, "name"),  # PostgreSQL's text cannot hold it: refused on every store
        ({"oa_names": ["a\u0000b"]}, "oa_names[0]"),
    ],
)
def test_bad_create_shop_input(client: TestClient, body: dict[str, object], argument: str) -> None:
    response = client.post("/_sandbox/shops", json=body)
    assert response.status_code == 400
    assert response.json()["meta"] == {"argument": argument}
    assert response.json()["msg"].startswith(argument + " ")
    assert client.post("/_sandbox/shops", json={"name": "a\u00e0"}).status_code == 201


def test_health_and_reset(client: TestClient, api: Api) -> None:
    new_shop(client)
    api.request_consent()
    health = client.get("/_sandbox/health").json()
    assert health["status"] == "ok"
    assert (health["shops"], health["consents"]) == (2, 1)
    reset = client.post("/_sandbox/reset", json={})
    assert reset.status_code == 200
    assert (reset.json()["shops"], reset.json()["consents"]) == (1, 0)
    assert api.page()["consents"] == []  # the demo shop's keys still work after reset
