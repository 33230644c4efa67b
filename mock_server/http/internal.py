"""The last line: an error nobody expected answers Twirp `internal` (500), logged once with its
traceback, and the connection stays open for the client's next request.

Starlette's own handler for `Exception` re-raises after answering, which makes uvicorn log the
error a second time and drop the connection; this middleware catches it first."""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("etelecom_sandbox")
BODY = orjson.dumps({"code": "internal", "msg": "internal error", "meta": {}})


class InternalErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("internal error on %s %s", scope["method"], scope["path"])
            if started:  # part of an answer went out: nothing whole can follow
                raise
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(BODY)),
            ]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": BODY})
