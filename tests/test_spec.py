"""The spec itself: valid OpenAPI 3.1, faithful to the docs, and what the sandbox derives."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from mock_server.spec import CONTROL_SPEC, WIRE_SPEC, data_dir
from tests.specs import wire_spec

EXAMPLES = data_dir("fixtures") / "examples"


@pytest.mark.parametrize("name", [WIRE_SPEC, CONTROL_SPEC])
def test_spec_passes_openapi_spec_validator(name: str) -> None:
    path = data_dir("openapi") / name
    document, _ = read_from_filename(str(path))
    validate(document, base_uri=path.as_uri())  # raises on any error; resolves refs across files
    assert document["openapi"].startswith("3.1")


def test_both_operations_exist_for_shop_and_partner_with_their_keys() -> None:
    ops = wire_spec().routes
    for prefix, scheme in (("shop", "shopApiKey"), ("partner", "partnerShopKey")):
        for method in ("RequestConsent", "ListRequestConsent"):
            op = ops[f"/v1/{prefix}.Zalo/{method}"]["POST"]
            assert op.name == method
            assert op.security == scheme


def test_docs_response_example_has_exactly_the_spec_consent_fields() -> None:
    docs = json.loads((EXAMPLES / "request-consent.response.json").read_text())
    consent = wire_spec().schema("Consent")
    assert set(docs) == set(consent["properties"]) == set(consent["required"])
    listed = json.loads((EXAMPLES / "list-request-consent.response.json").read_text())
    assert set(listed["consents"][0]) == set(docs)
    assert set(listed["paging"]) == set(wire_spec().schema("PagingResponse")["properties"])


def test_docs_zero_values_are_the_spec_zero_values() -> None:
    """The docs' example shows "unknown" and "Z": the unset value of each enum."""
    docs = json.loads((EXAMPLES / "request-consent.response.json").read_text())
    spec = wire_spec()
    assert docs["call_type"] == spec.zero_value("CallType")
    assert docs["reason_code"] == spec.zero_value("ReasonCode")
    assert docs["delivery_status"] == spec.zero_value("DeliveryStatus")
    assert docs["status"] == spec.zero_value("Status")
    assert docs["reply_status"] == spec.zero_value("ReplyStatus")


def test_documented_enum_values() -> None:
    spec = wire_spec()
    assert spec.enum("CallType") == ("audio", "video", "audio_and_video")
    assert set(spec.enum("ReasonCode")) == {
        "product_service_consulting",
        "order_appointment_confirmation",
        "delivery_notification",
        "flight_announcement",
        "update_order",
    }
    assert set(spec.enum("ReplyStatus")) == {"S", "P", "N", "NS"}
    assert set(spec.enum("Status")) == {"P", "N"}
    assert "id" not in spec.enum("SortField") and "-id" not in spec.enum("SortField")


def test_docs_request_examples_name_only_fields_the_spec_knows() -> None:
    spec = wire_spec()
    request = json.loads((EXAMPLES / "request-consent.request.json").read_text())
    assert set(request) == set(spec.schema("RequestConsentRequest")["properties"])
    listed = json.loads((EXAMPLES / "list-request-consent.request.json").read_text())
    assert set(listed["filter"]) == set(spec.schema("ConsentFilter")["properties"])
    assert set(listed["paging"]) == set(spec.schema("PagingRequest")["properties"])
