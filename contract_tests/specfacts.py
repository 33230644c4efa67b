"""What the kit reads from the wire spec: operations, which of them write, Twirp's status map,
the paging limits, enum values, examples, and whether a value is valid. It builds on the
sandbox's own spec reader (mock_server.spec), and nothing here is typed twice: every fact comes
from `openapi/etelecom-zalo-consent.yaml`."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs

from mock_server.spec import WIRE_SPEC, Operation, SpecDocument, load_document

__all__ = ["INT64_INPUT_REF", "INT64_REF", "OA_ID_REF", "Operation", "SpecFacts", "facts"]

INT64_REF = "#/components/schemas/Int64"
INT64_INPUT_REF = "#/components/schemas/Int64Input"
OA_ID_REF = "#/components/schemas/OAId"


class SpecFacts(SpecDocument):
    """The wire spec as the kit reads it: the sandbox's spec reader plus what the checks ask."""

    def __init__(self, document: dict[str, Any], name: str = WIRE_SPEC) -> None:
        super().__init__(document, name)
        self.status_by_code: dict[str, int] = dict(self.schemas["TwirpErrorCode"]["x-http-status"])
        limit = self.schemas["PagingRequest"]["properties"]["limit"]
        self.max_limit = int(limit["x-max-limit"])
        # The schema's own bound (int32): a limit above it is invalid input, refused by right.
        self.limit_maximum = int(limit["maximum"])
        self.default_limit = int(limit["x-default-limit"])
        self.phone_pattern: str = self.schemas["Phone"]["pattern"]
        self._validators: dict[str, Any] = {}
        # Each schema node's listed values, by the node's id (the node is kept with its answer:
        # an id is reused only once its node is gone).
        self._listed: dict[int, tuple[Any, list[Any] | None]] = {}

    def by_path(self, path: str) -> Operation | None:
        return next((op for op in self.operations if op.path == path), None)

    def oa_fields(self, op: Operation) -> list[str]:
        """Top-level request fields that name one of the shop's OAs (schema OAId)."""
        props = (self.resolve(op.request_schema) or {}).get("properties", {})
        return [name for name, node in props.items() if node.get("$ref") == OA_ID_REF]

    def enum_fields(self, op: Operation) -> dict[str, list[Any]]:
        """Request fields (dotted paths) whose values the spec lists, with those values."""
        found: dict[str, list[Any]] = {}

        def visit(node: Any, path: str) -> None:
            node = self.resolve(node)
            values = self.listed_values(node)
            if values is not None and path:
                found[path] = values
                return
            for name, child in (node or {}).get("properties", {}).items():
                visit(child, f"{path}.{name}" if path else name)

        visit(op.request_schema, "")
        return found

    def listed_values(self, node: Any) -> list[Any] | None:
        """The values an enum, a const, or an anyOf made only of those allows; None otherwise."""
        kept = self._listed.get(id(node))
        if kept is None or kept[0] is not node:
            kept = (node, self._listed_values(node))
            self._listed[id(node)] = kept
        return None if kept[1] is None else list(kept[1])  # a copy: the caller's to change

    def _listed_values(self, node: Any) -> list[Any] | None:
        node = self.resolve(node)
        if not isinstance(node, dict):
            return None
        if "enum" in node:
            return list(node["enum"])
        if "const" in node:
            return [node["const"]]
        branches = node.get("anyOf")
        if not branches:
            return None
        values: list[Any] = []
        for branch in branches:
            allowed = self.listed_values(branch)
            if allowed is None:
                return None
            values += allowed
        return values

    def url_fields(self, op: Operation) -> list[str]:
        """Top-level request fields that take a URL (their pattern names http(s)://)."""
        props = (self.resolve(op.request_schema) or {}).get("properties", {})
        return [name for name, node in props.items() if "https?://" in node.get("pattern", "")]

    def valid(self, node: Any, value: Any) -> bool:
        """Whether `value` passes the schema `node` (formats included)."""
        key = json.dumps(node, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            root = {**node, "components": self.document["components"]}
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
            self._validators[key] = validator
        return bool(validator.is_valid(value))

    def pages(self, op: Operation) -> bool:
        """Whether the operation takes `paging` and answers a page."""
        props = (self.resolve(op.request_schema) or {}).get("properties", {})
        return "paging" in props

    def items_field(self, op: Operation) -> str:
        """The array property of a page answer (`consents`)."""
        props: dict[str, Any] = self.resolve(op.response_schema)["properties"]
        return next(
            name for name, node in props.items() if self.resolve(node).get("type") == "array"
        )


@cache
def facts() -> SpecFacts:
    """The bundled wire spec, read once per kit run."""
    return SpecFacts(load_document(WIRE_SPEC).document)
