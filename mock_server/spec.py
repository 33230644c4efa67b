"""The spec is the truth: load `openapi/` once, compile validators, expose enums and limits.

Nothing else in the package types an enum value list, a route or a limit that this module can
read from the spec. Whatever the code needs but the spec does not provide fails at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mock_server.validation import BodyValidator

WIRE_SPEC = "etelecom-zalo-consent.yaml"
CONTROL_SPEC = "sandbox-control.yaml"


def data_dir(name: str) -> Path:
    """Where a data folder lives: inside the installed package (wheel) or at the repo root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} is neither in {here} nor in {here.parent}")


@dataclass(frozen=True)
class Operation:
    """One spec operation, as the HTTP edge needs it."""

    operation_id: str
    path: str
    method: str
    name: str  # the Twirp method (x-twirp-method) or the operationId for control routes
    security: str | None  # the security scheme's name, None when open
    validator: BodyValidator | None  # None when the operation takes no body
    query: dict[str, dict[str, Any]] = field(default_factory=dict)  # query parameter schemas


class Spec:
    """One loaded OpenAPI document and what is derived from it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        # path -> method -> operation
        self.operations: dict[str, dict[str, Operation]] = {}
        for op in self._operations():
            self.operations.setdefault(op.path, {})[op.method] = op

    def _operations(self) -> Iterator[Operation]:
        root_security = _first_scheme(self.document.get("security"))
        for path, item in self.document.get("paths", {}).items():
            for method, op in item.items():
                schema = _body_schema(self.document, op)
                security = _first_scheme(op["security"]) if "security" in op else root_security
                yield Operation(
                    operation_id=op["operationId"],
                    path=path,
                    method=method.upper(),
                    name=op.get("x-twirp-method", op["operationId"]),
                    security=security,
                    validator=BodyValidator(self.document, schema) if schema else None,
                    query={
                        p["name"]: p.get("schema", {})
                        for p in op.get("parameters", [])
                        if p.get("in") == "query"
                    },
                )

    def response_schema(self, operation: Operation, status: str = "200") -> dict[str, Any]:
        """The JSON schema of an operation's response body for `status`."""
        response = self.document["paths"][operation.path][operation.method.lower()]["responses"]
        node = response[status]
        if "$ref" in node:
            node = _resolve(self.document, node["$ref"])
        schema: dict[str, Any] = node["content"]["application/json"]["schema"]
        return schema

    def schema(self, name: str) -> dict[str, Any]:
        try:
            return self.schemas[name]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(f"the spec has no schema {name!r}") from None

    def enum(self, name: str) -> tuple[Any, ...]:
        """The documented values of an enum schema."""
        values = self.schema(name).get("enum")
        if not isinstance(values, list):
            raise LookupError(f"schema {name!r} is not an enum")
        return tuple(values)

    def zero_value(self, name: str) -> str:
        """The zero value added to enum `name` in its `<name>OrZero` schema."""
        for branch in self.schema(f"{name}OrZero")["anyOf"]:
            if "const" in branch:
                return str(branch["const"])
        raise LookupError(f"schema {name}OrZero has no zero value")

    def extension(self, schema: str, prop: str | None, key: str) -> Any:
        """An `x-...` value of a schema, or of one of its properties."""
        node = self.schema(schema)
        if prop is not None:
            node = node["properties"][prop]
        if key not in node:
            raise LookupError(f"schema {schema}.{prop} has no {key}")
        return node[key]


def _first_scheme(security: list[Mapping[str, Any]] | None) -> str | None:
    if not security:
        return None
    return next(iter(security[0]), None)


def _body_schema(document: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    body = op.get("requestBody")
    if body is None:
        return None
    if "$ref" in body:
        body = _resolve(document, body["$ref"])
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def load_document(filename: str) -> dict[str, Any]:
    with open(data_dir("openapi") / filename, encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


@cache
def wire_spec() -> Spec:
    return Spec(load_document(WIRE_SPEC))


@cache
def control_spec() -> Spec:
    return Spec(load_document(CONTROL_SPEC))
