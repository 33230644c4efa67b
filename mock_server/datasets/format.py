"""The dataset file format (JSON Lines), as data.

Line 1 is a header (format, version, seed, now, counts); every other line is one shop or one
consent. A consent record is the spec's Consent without `id` (the store assigns ids, in file
order), plus metadata the API does not have (`customer_name`; `future`, the events still to come
for a consent that waits), so its schema is built from the spec and no enum is typed here.
Shops come before the consents that name them.
"""

from __future__ import annotations

from typing import Any

from mock_server.spec import SpecDocument
from mock_server.spec.validator import BodyValidator

FORMAT = "etelecom-sandbox-dataset"
VERSION = 1
KINDS = ("shop", "consent")
# Consent fields in the order a record writes them, after kind, ids, phone and customer_name.
STATE_FIELDS = (
    "status",
    "reply_status",
    "delivery_status",
    "delivery_time",
    "is_charged",
    "error_code",
    "error_message",
    "expires_at",
    "created_at",
    "updated_at",
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def record_schemas(wire: SpecDocument) -> dict[str, dict[str, Any]]:
    """Header, shop and consent record schemas; `#/components/...` refs point into the spec."""
    consent = wire.schema("Consent")
    consent_record = {
        "type": "object",
        "required": ["kind", *(name for name in consent["required"] if name != "id")],
        "properties": {
            **{name: rule for name, rule in consent["properties"].items() if name != "id"},
            "kind": {"const": "consent"},
            "phone": _ref("Phone"),  # as RequestConsent accepts it
            "customer_name": {"type": "string"},
            "future": {
                "type": "object",
                "properties": {
                    "received_at": _ref("DateTime"),
                    "seen_at": _ref("DateTime"),
                    "reply_at": _ref("DateTime"),
                    "reply": _ref("ReplyStatus"),
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    shop_record = {
        "type": "object",
        "required": ["kind", "shop_id", "api_key", "shop_key", "oa_ids"],
        "properties": {
            "kind": {"const": "shop"},
            "shop_id": _ref("OAId"),  # any non-zero int64
            "name": {"type": "string"},
            "api_key": {"type": "string", "minLength": 1, "pattern": "^[^\\s]+$"},
            "shop_key": {"type": "string", "minLength": 1, "pattern": "^[^\\s]+$"},
            "oa_ids": {"type": "array", "minItems": 1, "items": _ref("OAId")},
            "oa_names": {"type": "array", "items": {"type": "string", "maxLength": 200}},
        },
        "additionalProperties": False,
    }
    count = {"type": "integer", "minimum": 0}
    header = {
        "type": "object",
        "required": ["format", "version", "now", "counts"],
        "properties": {
            "now": _ref("DateTime"),
            "seed": {"type": "integer"},
            "days": {"type": "integer", "minimum": 1},
            "counts": {
                "type": "object",
                "required": ["shops", "consents"],
                "properties": {"shops": count, "consents": count},
            },
        },
    }
    return {"header": header, "shop": shop_record, "consent": consent_record}


def record_validators(wire: SpecDocument) -> dict[str, BodyValidator]:
    return {
        name: wire.validators.body(schema, whole="record")
        for name, schema in record_schemas(wire).items()
    }
