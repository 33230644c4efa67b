"""The Twirp edge: routes, methods, Content-Type, malformed bodies, the envelope and status map."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import DEMO
from tests.specs import wire_spec

AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
LIST = "/v1/shop.Zalo/ListRequestConsent"
CREATE = "/v1/shop.Zalo/RequestConsent"


def assert_twirp(response: object, code: str, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"code", "msg", "meta"}
    assert body["code"] == code
    assert isinstance(body["msg"], str) and body["msg"]
    assert all(isinstance(v, str) for v in body["meta"].values())
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_only_post_is_routed(refusing_client: TestClient, method: str) -> None:
    body = assert_twirp(refusing_client.request(method, LIST, headers=AUTH), "bad_route", 404)
    assert method in str(body["msg"])
    assert body["meta"] == {"twirp_invalid_route": f"{method} {LIST}"}


@pytest.mark.parametrize(
    "path", ["/v1/shop.Zalo/Nope", "/v1/shop.Zalo/requestconsent", "/", "/twirp/x", "/v1/shop"]
)
def test_unknown_path_is_bad_route(refusing_client: TestClient, path: str) -> None:
    body = assert_twirp(refusing_client.post(path, json={}, headers=AUTH), "bad_route", 404)
    assert path in str(body["msg"])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_bad_route(refusing_client: TestClient, content_type: str) -> None:
    headers = {**AUTH, "Content-Type": content_type}
    body = assert_twirp(
        refusing_client.post(LIST, content=b"{}", headers=headers), "bad_route", 404
    )
    assert "Content-Type" in str(body["msg"])


def test_content_type_parameters_are_ignored(client: TestClient) -> None:
    headers = {**AUTH, "Content-Type": "application/json; charset=utf-8"}
    assert client.post(LIST, content=b"{}", headers=headers).status_code == 200


@pytest.mark.parametrize("raw", [b"{", b"", b"nul", b"[1,2]", b'"text"', b"42", b"\xff\xfe"])
def test_undecodable_or_non_object_json_is_malformed(
    refusing_client: TestClient, raw: bytes
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    assert_twirp(refusing_client.post(LIST, content=raw, headers=headers), "malformed", 400)


def test_every_code_has_twirps_status() -> None:
    statuses = wire_spec().extension("TwirpErrorCode", None, "x-http-status")
    assert set(statuses) == set(wire_spec().enum("TwirpErrorCode"))
    assert statuses["invalid_argument"] == 400
    assert statuses["unauthenticated"] == 401
    assert statuses["bad_route"] == 404
    assert statuses["already_exists"] == 409
    assert statuses["internal"] == 500


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=6,
)
field_names = st.sampled_from(
    ["oa_id", "phone", "call_type", "reason_code", "filter", "paging", "x", ""]
)
bodies = st.dictionaries(field_names, json_values, max_size=5) | st.dictionaries(
    field_names,
    st.dictionaries(
        st.sampled_from(
            ["call_type", "phone", "oa_id", "user_id", "date_from", "limit", "sort", "after"]
        ),
        json_values,
        max_size=4,
    ),
    max_size=2,
)


@settings(
    max_examples=150,
    deadline=None,  # each example is a request to a real store (a database on PostgreSQL)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from([LIST, CREATE]), body=bodies)
def test_no_json_body_causes_a_server_error(client: TestClient, path: str, body: object) -> None:
    response = client.post(path, json=body, headers=AUTH)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        assert set(response.json()) == {"code", "msg", "meta"}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.binary(max_size=64) | st.text(string.printable, max_size=64).map(str.encode))
def test_no_raw_body_causes_a_server_error(client: TestClient, raw: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = client.post(LIST, content=raw, headers=headers)
    assert response.status_code in (200, 400), response.text
    assert "Traceback" not in response.text
