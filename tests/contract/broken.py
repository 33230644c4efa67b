"""Servers that break one rule each: the sandbox behind a middleware that rewrites what goes in
or comes out. The kit must fail against every one of them, naming the rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.gateway import read_body
from contract_tests.specfacts import facts
from tests.contract.servers import sandbox_app

Answer = tuple[int, bytes]
Call = Callable[[bytes], Awaitable[Answer]]
Rewrite = Callable[[Scope, bytes, Call], Awaitable[Answer]]


class Rewriting:
    """The sandbox, with `rewrite(scope, body, call)` in front: `call` asks the sandbox."""

    def __init__(self, rewrite: Rewrite, inner: ASGIApp | None = None) -> None:
        self.inner = inner or sandbox_app()
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return

        async def call(body: bytes) -> Answer:
            status, chunks = 500, []
            sent = False

            async def once() -> Message:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def collect(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                else:
                    chunks.append(message.get("body", b""))

            await self.inner(scope, once, collect)
            return status, b"".join(chunks)

        status, content = await self.rewrite(scope, await read_body(receive), call)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(content)),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def method(scope: Scope) -> str:
    """The Twirp method a request is for (`ListRequestConsent`), or ""."""
    op = facts().by_path(scope["path"])
    return op.name if op else ""


def loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def ignores_filter(name: str = "reason_code") -> ASGIApp:
    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        body = loads(raw)
        filter_ = body.get("filter") if isinstance(body, dict) else None
        if method(scope) == "ListRequestConsent" and isinstance(filter_, dict):
            filter_.pop(name, None)
            raw = orjson.dumps(body)
        return await call(raw)

    return Rewriting(rewrite)


def repeats_an_item() -> ASGIApp:
    """`next` points one item too early: the next page starts with this page's last item."""

    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        body, answer = loads(raw), loads(content)
        paging: dict[str, Any] = (body.get("paging") if isinstance(body, dict) else None) or {}
        limit = paging.get("limit") if isinstance(paging, dict) else None
        if (
            method(scope) == "ListRequestConsent"
            and status == 200
            and isinstance(limit, int)
            and limit >= 2
            and answer["paging"]["next"]
        ):
            shorter = {**body, "paging": {**paging, "limit": limit - 1}}
            _, other = await call(orjson.dumps(shorter))
            answer["paging"]["next"] = loads(other)["paging"]["next"]
            content = orjson.dumps(answer)
        return status, content

    return Rewriting(rewrite)


def numbers(node: Any) -> Any:
    """`node` with every `id` written as a number."""
    if isinstance(node, dict):
        return {
            k: int(v) if k == "id" and isinstance(v, str) else numbers(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [numbers(item) for item in node]
    return node


def id_as_number() -> ASGIApp:
    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        if method(scope) and status == 200:
            content = orjson.dumps(numbers(loads(content)))
        return status, content

    return Rewriting(rewrite)


def bad_input_500() -> ASGIApp:
    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        if status == 400:
            return 500, orjson.dumps({"code": "internal", "msg": "internal error", "meta": {}})
        return status, content

    return Rewriting(rewrite)


def leaks_other_shops() -> ASGIApp:
    """Listings also show the latest consent another shop made (a shop filter gone missing)."""
    made: list[dict[str, Any]] = []
    shop_of_key: dict[str, str] = {}

    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        key = dict(scope["headers"]).get(b"authorization", b"").decode()
        answer = loads(content)
        if method(scope) == "RequestConsent" and status == 200:
            made.append(answer)
            shop_of_key[key] = answer["shop_id"]
        elif method(scope) == "ListRequestConsent" and status == 200 and key in shop_of_key:
            others = [c for c in made if c["shop_id"] != shop_of_key[key]]
            if others and len(answer["consents"]) < answer["paging"]["limit"]:
                answer["consents"].append(others[-1])
                content = orjson.dumps(answer)
        return status, content

    return Rewriting(rewrite)


def accepts_undocumented_enums() -> ASGIApp:
    """An enum value the spec does not list is quietly dropped (or replaced), not refused."""

    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        op = facts().by_path(scope["path"])
        body = loads(raw)
        if op is not None and isinstance(body, dict):
            for path, allowed in facts().enum_fields(op).items():
                *parents, last = path.split(".")
                node: Any = body
                for name in parents:
                    node = node.get(name) if isinstance(node, dict) else None
                if isinstance(node, dict) and last in node and node[last] not in allowed:
                    if parents:
                        del node[last]
                    else:
                        node[last] = allowed[0]
            raw = orjson.dumps(body)
        return await call(raw)

    return Rewriting(rewrite)


def echoes_keys() -> ASGIApp:
    """Every answer repeats the caller's Authorization header (and writes ids as numbers, so
    that the run fails and prints answers): keys must still not show."""

    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        answer = loads(content)
        if method(scope) and isinstance(answer, dict):
            answer["debug_authorization"] = (
                dict(scope["headers"]).get(b"authorization", b"").decode()
            )
            content = orjson.dumps(numbers(answer))
        return status, content

    return Rewriting(rewrite)


def drifts() -> ASGIApp:
    """Drift of every kind the drift report knows: an undocumented field, an enum value the spec
    does not list, an id as a number, a status and an error code the spec lacks, no clamping."""

    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        answer, body = loads(content), loads(raw)
        if not method(scope) or not isinstance(answer, dict):
            return status, content
        for consent in answer.get("consents", []):
            consent["region"] = "VN"
            consent["delivery_status"] = "pending"
            consent["user_id"] = int(consent["user_id"])
        paging = body.get("paging") if isinstance(body, dict) else None
        if "paging" in answer and isinstance(paging, dict) and paging.get("limit"):
            answer["paging"]["limit"] = paging["limit"]
        if status == 401:
            status, answer["code"] = 403, "permission_denied"
        elif answer.get("code") == "malformed":
            answer["code"] = "bad_json"
        return status, orjson.dumps(answer)

    return Rewriting(rewrite)


def reply_changes_after_expiry() -> ASGIApp:
    """A final reply can still be changed: where the sandbox refuses to force an answer (412,
    the reply is final or its deadline has passed), this one takes it, and from then on its
    listings show the new reply_status."""
    replies = {"agree": "P", "reject": "N", "no_response": "NS"}
    changed: dict[str, str] = {}  # consent id -> the reply it was given after it was final

    async def rewrite(scope: Scope, raw: bytes, call: Call) -> Answer:
        status, content = await call(raw)
        body = loads(raw)
        if scope["path"] == "/_sandbox/force" and status == 412 and isinstance(body, dict):
            consent_id, reply = str(body.get("consent_id")), replies.get(body.get("action", ""))
            if reply:
                changed[consent_id] = reply
                return 200, orjson.dumps({"id": consent_id, "reply_status": reply})
        if method(scope) == "ListRequestConsent" and status == 200 and changed:
            answer = loads(content)
            for consent in answer["consents"]:
                consent["reply_status"] = changed.get(consent["id"], consent["reply_status"])
            content = orjson.dumps(answer)
        return status, content

    return Rewriting(rewrite)


# What each broken server breaks, words the kit's failure must contain, and the kit's suite
# that owns the rule (a `-k` expression).
BROKEN: dict[str, tuple[Callable[[], ASGIApp], str, str]] = {
    "ignores a filter": (ignores_filter, "[filter reason_code]", "test_listing"),
    "repeats an item across pages": (repeats_an_item, "is listed twice", "test_listing"),
    "returns an id as a number": (id_as_number, "[int64-as-string] id", "test_conformance"),
    "answers bad input with 500": (bad_input_500, "Server error", "test_conformance"),
    "leaks another shop's consent": (leaks_other_shops, "[shop isolation]", "test_listing"),
    "accepts an undocumented enum value": (
        accepts_undocumented_enums,
        "[documented-enum]",
        "test_rules",
    ),
    "lets a reply change after expiry": (
        reply_changes_after_expiry,
        "[final reply]",
        "test_lifecycle",
    ),
}
