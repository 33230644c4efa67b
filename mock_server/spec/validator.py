"""Request bodies and query parameters are checked by JSON Schema validators compiled once from
the spec (jsonschema-rs).

A problem is the domain's `InvalidField`, with the field path (`filter.call_type`); the HTTP edge
answers it as Twirp `invalid_argument`. Wording comes from the schema where it can: a pattern's
`x-message`, an enum's allowed values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jsonschema_rs

from mock_server.domain.errors import InvalidField


class BodyValidator:
    """One JSON body's schema. `whole` names the body itself in messages ("body", "record")."""

    def __init__(
        self,
        document: dict[str, Any],
        schema: dict[str, Any],
        whole: str = "body",
        pattern_messages: dict[str, str] | None = None,
    ) -> None:
        self.whole = whole
        # The body schema refers to `#/components/...`; keeping `components` at the root of the
        # compiled document lets those refs resolve without rewriting them.
        root = {**schema, "components": document.get("components", {})}
        self._validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
        if pattern_messages is None:
            pattern_messages = dict(_pattern_messages(document))
        self._pattern_messages = pattern_messages

    def validate_as(self, value: Any, name: str) -> None:
        """Check a value that is not a body (a header, say); problems name it `name`."""
        errors = list(self._validator.iter_errors(value))
        if errors:
            problem = self._problem(min(errors, key=lambda e: (_path(e.instance_path), e.message)))
            raise InvalidField(name, problem.problem)

    def validate(self, body: Any) -> None:
        """Raise `invalid_argument` for the first problem (by field path), or return."""
        errors = list(self._validator.iter_errors(body))
        if not errors:
            return
        first = min(errors, key=lambda e: (_path(e.instance_path), e.message))
        raise self._problem(first)

    def _problem(self, error: jsonschema_rs.ValidationError) -> InvalidField:
        kind = error.kind
        where = _path(error.instance_path)
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            field = str(kind.property)
            return InvalidField(f"{where}.{field}" if where else field, "is required")
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AnyOf):
            allowed = _allowed_values(kind.context)
            if allowed is not None:
                return _not_one_of(where, error.instance, allowed)
            # Not a list of values: report the deepest problem of the closest branch.
            inner = min(
                (branch for branch in kind.context if branch),
                key=lambda branch: -max(len(e.instance_path) for e in branch),
            )
            return self._problem(inner[0])
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
            return _not_one_of(where, error.instance, list(kind.options))
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
            message = self._pattern_messages.get(str(kind.pattern))
            if message:
                return InvalidField(where or self.whole, f"{message} (got {_show(error.instance)})")
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
            types = ", ".join(sorted(str(t) for t in kind.types))
            return InvalidField(
                where or self.whole, f"must be of type {types} (got {_show(error.instance)})"
            )
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Format):
            return InvalidField(
                where or self.whole,
                f"must be an RFC 3339 {kind.format} (got {_show(error.instance)})",
            )
        return InvalidField(where or self.whole, f"is invalid: {error.message}")


def _path(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def _not_one_of(where: str, value: Any, allowed: list[Any]) -> InvalidField:
    values = ", ".join(f'"{v}"' for v in allowed)
    return InvalidField(where, f"must be one of {values} (got {_show(value)})")


def _allowed_values(branches: list[list[jsonschema_rs.ValidationError]]) -> list[Any] | None:
    """All values an anyOf of enums and consts allows, or None if it is not only that."""
    allowed: list[Any] = []
    for branch in branches:
        for error in branch:
            kind = error.kind
            if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
                allowed.extend(kind.options)
            elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Constant):
                allowed.append(kind.expected_value)
            else:
                return None
    return allowed


def _pattern_messages(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if "pattern" in node and "x-message" in node:
            yield str(node["pattern"]), str(node["x-message"])
        for value in node.values():
            yield from _pattern_messages(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pattern_messages(value)


class QueryValidator:
    """An operation's query parameters: each is read as its schema's type, then checked by the
    schema (bounds, maxLength) like a body field."""

    def __init__(self, body: BodyValidator, parameters: dict[str, dict[str, Any]]) -> None:
        self._types = {name: schema.get("type") for name, schema in parameters.items()}
        self._body = body

    def read(self, params: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind in self._types.items():
            raw = params.get(name)
            if raw is None:
                continue
            if kind == "integer":
                try:
                    out[name] = int(raw)
                except ValueError:
                    raise InvalidField(name, f"must be an integer (got {_show(raw)})") from None
            else:
                out[name] = raw
        self._body.validate(out)
        return out


class Validators:
    """The validators of one document, each schema compiled once however many apps are built
    from it: compiling every operation's schema is most of what building an app costs."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._messages: dict[str, str] | None = None
        self._compiled: dict[str, BodyValidator] = {}
        self._lock = threading.Lock()

    def body(self, schema: dict[str, Any], whole: str = "body") -> BodyValidator:
        key = json.dumps([schema, whole], sort_keys=True)
        with self._lock:
            found = self._compiled.get(key)
            if found is None:
                if self._messages is None:
                    self._messages = dict(_pattern_messages(self.document))
                found = BodyValidator(self.document, schema, whole, self._messages)
                self._compiled[key] = found
            return found

    def query(self, parameters: dict[str, dict[str, Any]]) -> QueryValidator:
        schema = {"type": "object", "properties": parameters}
        return QueryValidator(self.body(schema, whole="query"), parameters)
