"""What the kit reads from the wire spec: operations, which of them write, Twirp's status map,
the paging limits, enum values, examples, and whether a value is valid. Nothing here is typed
twice: every fact comes from `openapi/etelecom-zalo-consent.yaml`."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs

from mock_server.spec import WIRE_SPEC, load_document

INT64_REF = "#/components/schemas/Int64"
INT64_INPUT_REF = "#/components/schemas/Int64Input"
OA_ID_REF = "#/components/schemas/OAId"
PARTNER_SCHEME = "partnerShopKey"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    path: str
    method: str  # upper case
    twirp_method: str
    writes: bool  # the spec marks it `x-writes: true`
    partner: bool  # authorised with the partner shop_key
    request_schema: dict[str, Any] | None
    response_schema: dict[str, Any] | None  # the 200 answer

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class SpecFacts:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        self.operations = tuple(self._operations())
        self.status_by_code: dict[str, int] = dict(self.schemas["TwirpErrorCode"]["x-http-status"])
        limit = self.schemas["PagingRequest"]["properties"]["limit"]
        self.max_limit = int(limit["x-max-limit"])
        self.default_limit = int(limit["x-default-limit"])
        self.phone_pattern: str = self.schemas["Phone"]["pattern"]
        self._validators: dict[int, Any] = {}

    def resolve(self, node: Any) -> Any:
        """Follow `$ref`s (local ones only, as the spec has) until a real node."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def operation(self, twirp_method: str, partner: bool = False) -> Operation:
        for op in self.operations:
            if op.twirp_method == twirp_method and op.partner == partner:
                return op
        raise LookupError(f"the spec has no {'partner' if partner else 'shop'} {twirp_method}")

    def by_path(self, path: str) -> Operation | None:
        return next((op for op in self.operations if op.path == path), None)

    def status_codes(self, op: Operation) -> set[str]:
        """The status keys the spec documents for `op` ('200', '400', 'default', ...)."""
        item = self.document["paths"][op.path][op.method.lower()]
        return set(item.get("responses", {}))

    def oa_fields(self, op: Operation) -> list[str]:
        """Top-level request fields that name one of the shop's OAs (schema OAId)."""
        props = (self.resolve(op.request_schema) or {}).get("properties", {})
        return [name for name, node in props.items() if node.get("$ref") == OA_ID_REF]

    def example(self, op: Operation) -> dict[str, Any]:
        """The request body example the spec gives `op` (a fresh copy)."""
        item = self.document["paths"][op.path][op.method.lower()]
        content = self.resolve(item["requestBody"])["content"]["application/json"]
        examples: list[dict[str, Any]] = list(content.get("examples", {}).values())
        return copy.deepcopy(dict(examples[0]["value"])) if examples else {}

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
        validator = self._validators.get(id(node))
        if validator is None:
            root = {**node, "components": self.document["components"]}
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
            self._validators[id(node)] = validator
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

    def _operations(self) -> Iterator[Operation]:
        root_security = self.document.get("security") or [{}]
        for path, item in self.document["paths"].items():
            for method, op in item.items():
                security = op.get("security", root_security)
                yield Operation(
                    operation_id=op["operationId"],
                    path=path,
                    method=method.upper(),
                    twirp_method=op.get("x-twirp-method", op["operationId"]),
                    writes=bool(op.get("x-writes", False)),
                    partner=any(PARTNER_SCHEME in entry for entry in security),
                    request_schema=self._body_schema(op),
                    response_schema=self._ok_schema(op),
                )

    def _body_schema(self, op: dict[str, Any]) -> dict[str, Any] | None:
        body = self.resolve(op.get("requestBody"))
        if not body:
            return None
        schema: dict[str, Any] = body["content"]["application/json"]["schema"]
        return schema

    def _ok_schema(self, op: dict[str, Any]) -> dict[str, Any] | None:
        answer = self.resolve(op.get("responses", {}).get("200"))
        if not answer or "content" not in answer:
            return None
        schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
        return schema


@cache
def facts() -> SpecFacts:
    return SpecFacts(load_document(WIRE_SPEC))
