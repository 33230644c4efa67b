"""Hostile input: requests built to break a server, and the survey of what they did.

`hostile_bodies` draws request bodies that stay close to a valid one (the spec's example) but
carry extreme or ill-typed values, wrong shapes and oversized parts; `odd_requests` are the
HTTP-level oddities (content types, encodings, paths, queries). A `Survey` sends them to a
server, counts every 5xx, and after each one checks that valid requests still work, naming any
endpoint left broken. The project's tests run it briefly; the benchmark sends tens of thousands.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from mock_server.spec import Operation, SpecDocument

# Values that broke sandboxes before, or that sit at an edge of a type.
EXTREMES: tuple[Any, ...] = (
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    -1,
    0,
    1.5,
    1e308,
    "9223372036854775808",
    "-9223372036854775809",
    "",
    " ",
    "\u0000",
    "\ud7ff\ue000",
    "null",
    None,
    True,
    [],
    {},
    "x" * 5000,
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:60+14:00",
    "2026-02-30T00:00:00Z",
    "3000000d",
    "9999999999999999999ms",
    "999999999d",
    "http://127.0.0.1:9:9/",
    "http://[::1",
    "+8400000000000000000000",
    "0912345678\n",
    ".",
    "-created_at,id",
    "..",
    "%00",
)
WHOLE_BODIES: tuple[bytes, ...] = (
    b"",
    b"null",
    b"[]",
    b"0",
    b'"x"',
    b"{",
    b"{}" * 3,
    b"\xff\xfe{}",
    b'{"a":' * 3000,
    b"[" * 5000,
    b'{"filter": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    b" " * 100_000,
)


def leaf_paths(document: dict[str, Any], schema: Any, prefix: str = "") -> list[str]:
    """Dotted paths of a body schema's fields (objects followed; arrays as one field)."""
    spec = SpecDocument(document)
    node = spec.resolve(schema) or {}
    paths: list[str] = []
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        inner = spec.resolve(child) or {}
        paths.append(path)
        if "properties" in inner:
            paths += leaf_paths(document, inner, path)
    return paths


def _set(body: Any, path: str, value: Any) -> Any:
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    *parents, last = path.split(".")
    node = body
    for name in parents:
        child = node.get(name)
        node[name] = child if isinstance(child, dict) else {}
        node = node[name]
    node[last] = value
    return body


def hostile_bodies(spec: SpecDocument, op: Operation) -> st.SearchStrategy[bytes]:
    """Bodies for `op`: its example with some fields extreme, missing or of another type;
    or a whole body that is not what any server expects."""
    import orjson

    example = spec.example(op)
    paths = leaf_paths(spec.document, op.request_schema) if op.request_schema else []
    values = st.sampled_from(EXTREMES) | st.integers() | st.text(max_size=40) | st.floats()
    edits = (
        st.lists(st.tuples(st.sampled_from(paths), values), max_size=4) if paths else st.just([])
    )

    def build(changes: list[tuple[str, Any]]) -> bytes:
        body: Any = example
        for path, value in changes:
            body = _set(body, path, value)
        try:
            return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError):  # a NaN or a lone surrogate: send as text
            return repr(body).encode("utf-8", "surrogatepass")

    return edits.map(build) | st.sampled_from(WHOLE_BODIES)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    content: bytes


def odd_requests(spec: SpecDocument, key: str) -> st.SearchStrategy[Request]:
    """HTTP-level oddities on the spec's paths: methods, content types, queries, paths."""
    paths = sorted({op.path for op in spec.operations})
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    types = st.sampled_from(
        [
            "application/json",
            "text/plain",
            "application/json; charset=latin-1",
            "",
            "*/*",
            "application/json;\tcharset=utf-8",
            "multipart/form-data; boundary=x",
        ]
    )
    queries = st.sampled_from(
        [
            "",
            "?limit=99999999999999999999",
            "?limit=-1",
            "?limit=1e3",
            "?path=" + "x" * 5000,
            "?path=%ZZ",
            "?limit=1&limit=2",
            "?%00=1",
        ]
    )
    suffixes = st.sampled_from(["", "/", "%00", "/..", "//", "?", "#x", "/%2e%2e/health"])
    return st.builds(
        lambda method, path, suffix, query, kind, body, with_auth: Request(
            method,
            path + suffix + query,
            {**(auth if with_auth else {}), **({"Content-Type": kind} if kind else {})},
            body,
        ),
        st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        st.sampled_from(paths),
        suffixes,
        queries,
        types,
        st.sampled_from(WHOLE_BODIES[:8]) | st.binary(max_size=64),
        st.booleans(),
    )


@dataclass
class Survey:
    """Sends hostile requests to a server and keeps score."""

    http: httpx.Client
    valid: list[tuple[str, Callable[[httpx.Client], bool]]]  # endpoint -> "still works?"
    sent: int = 0
    server_errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # one failing request per kind
    broken: set[str] = field(default_factory=set)

    def send(self, request: Request) -> int:
        self.sent += 1
        try:
            answer = self.http.request(
                request.method, request.path, headers=request.headers, content=request.content
            )
        except httpx.LocalProtocolError:  # the client would not send it: nothing to count
            self.sent -= 1
            return 0
        except httpx.TransportError as exc:  # a dropped connection is as bad as a 500
            status, text = 599, f"{type(exc).__name__}: {exc}"
        else:
            status, text = answer.status_code, answer.text[:200]
        if status >= 500 and status != 501:
            label = f"{request.method} {request.path.split('?')[0][:80]} -> {status}"
            self.server_errors[label] += 1
            self.examples.setdefault(label, f"{request.content[:200]!r}: {text}")
        return status

    def check(self, quick: bool = False) -> None:
        """Every valid request still works (`quick`: the first two, a wire write and a read);
        any that does not is an endpoint left broken."""
        for endpoint, works in self.valid[:2] if quick else self.valid:
            try:
                ok = works(self.http)
            except httpx.HTTPError:
                ok = False
            if not ok:
                self.broken.add(endpoint)

    @property
    def clean(self) -> bool:
        return not self.server_errors and not self.broken

    def summary(self) -> str:
        return (
            f"{self.sent} hostile requests: {sum(self.server_errors.values())} answered 5xx, "
            f"{len(self.broken)} endpoints left broken"
            + "".join(f"\n  {k}: {v}" for k, v in self.server_errors.items())
            + "".join(f"\n  broken: {e}" for e in sorted(self.broken))
        )


def valid_requests(api_key: str, oa_id: str) -> list[tuple[str, Callable[[httpx.Client], bool]]]:
    """Requests a healthy sandbox always answers with success."""
    auth = {"Authorization": f"Bearer {api_key}"}
    consent = {
        "oa_id": oa_id,
        "phone": "0987654321",
        "call_type": "audio",
        "reason_code": "update_order",
    }

    def post(path: str, body: Any, status: int = 200) -> Callable[[httpx.Client], bool]:
        return lambda http: http.post(path, json=body, headers=auth).status_code == status

    def get(path: str) -> Callable[[httpx.Client], bool]:
        return lambda http: http.get(path).status_code == 200

    return [
        ("RequestConsent", post("/v1/shop.Zalo/RequestConsent", consent)),
        ("ListRequestConsent", post("/v1/shop.Zalo/ListRequestConsent", {"paging": {"limit": 5}})),
        (
            "CheckConsent",
            post("/v1/shop.Zalo/CheckConsent", {"oa_id": oa_id, "phone": "0987654321"}),
        ),
        ("ListOA", post("/v1/shop.Zalo/ListOA", {})),
        ("GET /_sandbox/clock", get("/_sandbox/clock")),
        ("POST /_sandbox/clock", post("/_sandbox/clock", {"advance": "1s"})),
        ("POST /_sandbox/shops", post("/_sandbox/shops", {}, 201)),
        ("GET /_sandbox/journal", get("/_sandbox/journal?limit=3")),
        ("GET /_sandbox/webhooks/deliveries", get("/_sandbox/webhooks/deliveries?limit=3")),
        ("POST /_sandbox/webhooks/drain", post("/_sandbox/webhooks/drain", {})),
    ]


def requests_for(spec: SpecDocument, op: Operation, key: str) -> st.SearchStrategy[Request]:
    """Hostile bodies on `op`'s own route, with a good key (so they reach validation)."""
    headers = {"Content-Type": "application/json"}
    if key and op.security:
        headers["Authorization"] = f"Bearer {key}"
    return hostile_bodies(spec, op).map(lambda body: Request(op.method, op.path, headers, body))


def all_requests(
    wire: SpecDocument, control: SpecDocument, api_key: str, shop_key: str
) -> Iterator[tuple[str, st.SearchStrategy[Request]]]:
    """Every operation's hostile requests, then the HTTP-level oddities of both APIs."""
    for op in wire.operations:
        yield op.label, requests_for(wire, op, shop_key if op.partner else api_key)
    for op in control.operations:
        if op.request_schema is not None and op.operation_id != "reset":
            yield op.label, requests_for(control, op, "")
    yield "odd requests, wire", odd_requests(wire, api_key)
    yield "odd requests, control", odd_requests(control, "")
