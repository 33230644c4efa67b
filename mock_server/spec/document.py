"""One OpenAPI document, read once, and what is derived from it: operations, schemas, enums,
zero values and `x-` extensions. The sandbox and the contract kit both read the spec here."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mock_server.spec.validator import Validators

# libyaml's loader when PyYAML has it (ten times faster: start-up reads the specs).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

WIRE_SPEC = "etelecom-zalo-consent.yaml"
CONTROL_SPEC = "sandbox-control.yaml"
PARTNER_SCHEME = "partnerShopKey"


def data_dir(name: str) -> Path:
    """Where a data folder lives: inside the installed package (wheel) or at the repo root."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} is neither in {here} nor in {here.parent}")


@dataclass(frozen=True)
class Operation:
    """One spec operation."""

    operation_id: str
    path: str
    method: str  # upper case
    name: str  # the Twirp method (x-twirp-method), else the operationId
    security: str | None  # the first security scheme's name, None when open
    writes: bool  # `x-writes: true`: it changes what the API stores
    request_schema: dict[str, Any] | None  # None when it takes no body
    response_schema: dict[str, Any] | None  # the first 2xx answer's body
    query: dict[str, dict[str, Any]] = field(default_factory=dict)  # query parameter schemas

    @property
    def partner(self) -> bool:
        return self.security == PARTNER_SCHEME

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class SpecDocument:
    """A loaded OpenAPI document. `$ref`s into another file of the same folder are followed."""

    def __init__(self, document: dict[str, Any], name: str = "") -> None:
        self.document = document
        self.name = name
        self.validators = Validators(document)
        self._refs: dict[str, Any] = {}  # "$ref" -> its node, each followed once
        self.schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        self.operations: tuple[Operation, ...] = tuple(self._operations())
        # path -> method -> operation
        self.routes: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            self.routes.setdefault(op.path, {})[op.method] = op

    def operation(self, name: str, partner: bool = False) -> Operation:
        """A wire operation by Twirp method, or a control one by operationId."""
        for op in self.operations:
            if name in (op.name, op.operation_id) and op.partner == partner:
                return op
        raise LookupError(f"the spec has no {'partner ' if partner else ''}operation {name!r}")

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a real node."""
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
            ref = node["$ref"]
            target = self._refs.get(ref)
            if target is None:
                target = self.document
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]
                self._refs[ref] = target
            node = target
        return node

    def schema(self, name: str) -> dict[str, Any]:
        try:
            return self.schemas[name]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(f"the spec has no schema {name!r}") from None

    def enum(self, name: str, prop: str | None = None) -> tuple[Any, ...]:
        """The documented values of an enum schema (or of one of its properties)."""
        node = self.schema(name)
        if prop is not None:
            node = self.resolve(node["properties"][prop])
        values = node.get("enum")
        if not isinstance(values, list):
            raise LookupError(f"schema {name}{'.' + prop if prop else ''} is not an enum")
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

    def example(self, op: Operation) -> dict[str, Any]:
        """The request body example the spec gives `op` (a fresh copy), or {}."""
        item = self.document["paths"][op.path][op.method.lower()]
        body = self.resolve(item.get("requestBody")) or {}
        content = body.get("content", {}).get("application/json", {})
        examples: list[dict[str, Any]] = list(content.get("examples", {}).values())
        return copy.deepcopy(dict(examples[0]["value"])) if examples else {}

    def status_codes(self, op: Operation) -> set[str]:
        """The status keys the spec documents for `op` ('200', '400', 'default', ...)."""
        return set(self.document["paths"][op.path][op.method.lower()].get("responses", {}))

    def response_schema(self, op: Operation, status: str) -> dict[str, Any] | None:
        answer = self.resolve(
            self.document["paths"][op.path][op.method.lower()]["responses"].get(status)
        )
        if not answer or "content" not in answer:
            return None
        schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
        return schema

    def webhooks(self) -> dict[str, dict[str, Any]]:
        """The OpenAPI 3.1 `webhooks:` payload schemas, by event name."""
        out: dict[str, dict[str, Any]] = {}
        for name, item in self.document.get("webhooks", {}).items():
            body = self.resolve(item["post"]["requestBody"])
            out[name] = body["content"]["application/json"]["schema"]
        return out

    def _operations(self) -> Iterator[Operation]:
        root_security = _first_scheme(self.document.get("security"))
        for path, item in self.document.get("paths", {}).items():
            for method, op in item.items():
                security = _first_scheme(op["security"]) if "security" in op else root_security
                body = self.resolve(op.get("requestBody"))
                responses = op.get("responses", {})
                ok = next((s for s in sorted(responses) if s.startswith("2")), None)
                yield Operation(
                    operation_id=op["operationId"],
                    path=path,
                    method=method.upper(),
                    name=op.get("x-twirp-method", op["operationId"]),
                    security=security,
                    writes=bool(op.get("x-writes", False)),
                    request_schema=body["content"]["application/json"]["schema"] if body else None,
                    response_schema=self._content_schema(responses.get(ok)) if ok else None,
                    query={
                        p["name"]: p.get("schema", {})
                        for p in op.get("parameters", [])
                        if p.get("in") == "query"
                    },
                )

    def _content_schema(self, response: Any) -> dict[str, Any] | None:
        answer = self.resolve(response)
        if not answer or "content" not in answer:
            return None
        schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
        return schema


def _first_scheme(security: list[Mapping[str, Any]] | None) -> str | None:
    if not security:
        return None
    return next(iter(security[0]), None)


def load_document(filename: str, folder: Path | None = None) -> SpecDocument:
    path = (folder or data_dir("openapi")) / filename
    with open(path, encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=SAFE_LOADER)
    return SpecDocument(document, filename)
