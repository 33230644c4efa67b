"""Every curl example of the two docs pages, replayed from fixtures/examples/ as data."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from mock_server.spec import data_dir
from tests.conftest import DEMO, DEMO_OA, Api
from tests.specs import wire_spec

EXAMPLES = data_dir("fixtures") / "examples"
INDEX = json.loads((EXAMPLES / "index.json").read_text())["examples"]


def filled(example: dict[str, Any]) -> dict[str, Any]:
    """The docs' request with each placeholder replaced as index.json says."""
    body: dict[str, Any] = json.loads((EXAMPLES / example["request"]).read_text())
    body = copy.deepcopy(body)
    for dotted, value in example["placeholders"].items():
        *parents, leaf = dotted.split(".")
        node = body
        for part in parents:
            node = node[part]
        assert isinstance(node[leaf], str) and node[leaf].startswith("<"), dotted
        if value is None:
            del node[leaf]
        else:
            node[leaf] = DEMO_OA if value == "$demo_oa_id" else value
    return body


def response_validator(operation: str) -> jsonschema_rs.Validator:
    spec = wire_spec()
    schema = "Consent" if operation == "RequestConsent" else "ConsentList"
    root = {"$ref": f"#/components/schemas/{schema}", "components": spec.document["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def test_every_placeholder_in_the_docs_examples_is_filled() -> None:
    for example in INDEX:
        text = json.dumps(filled(example))
        assert "<" not in text, text


@pytest.mark.parametrize("example", INDEX, ids=[e["operation"] for e in INDEX])
def test_docs_example_replays(client: TestClient, api: Api, example: dict[str, Any]) -> None:
    if example["operation"] == "ListRequestConsent":
        # Something for the docs' filter to find: an audio flight announcement to that phone.
        api.request_consent(call_type="audio", reason_code="flight_announcement")
        api.request_consent(call_type="video", reason_code="flight_announcement")
    response = client.post(
        example["path"],
        json=filled(example),
        headers={"Authorization": f"Bearer {DEMO.demo_api_key}", "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    response_validator(example["operation"]).validate(body)
    docs = json.loads((EXAMPLES / example["response"]).read_text())
    assert set(body) == set(docs)
    if example["operation"] == "ListRequestConsent":
        assert len(body["consents"]) == 1
        assert body["consents"][0]["call_type"] == "audio"
        assert set(body["consents"][0]) == set(docs["consents"][0])
        assert set(body["paging"]) == set(docs["paging"])


def test_docs_request_as_written_is_refused_with_the_placeholder_field(api: Api) -> None:
    """Sending the docs' body verbatim names the first placeholder the server cannot read."""
    body = json.loads((EXAMPLES / "request-consent.request.json").read_text())
    response = api.call("RequestConsent", body)
    assert response.status_code == 400
    assert response.json()["meta"]["argument"] == "oa_id"
