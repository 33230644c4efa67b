"""Twirp's error envelope: every failure leaves the server as `{code, msg, meta}`.

The code → HTTP status map is read from the spec (`TwirpErrorCode.x-http-status`), so this
module only knows how to carry and render an error, not which statuses exist.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response


class TwirpError(Exception):
    """An error to be answered with Twirp's envelope."""

    def __init__(self, code: str, msg: str, meta: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.meta: dict[str, str] = dict(meta or {})

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg, "meta": self.meta}


def invalid_argument(argument: str, problem: str) -> TwirpError:
    """Twirp's InvalidArgumentError: msg is "<argument> <problem>", meta names the argument."""
    return TwirpError("invalid_argument", f"{argument} {problem}", {"argument": argument})


def bad_route(msg: str, method: str, path: str) -> TwirpError:
    return TwirpError("bad_route", msg, {"twirp_invalid_route": f"{method} {path}"})


def error_response(error: TwirpError, status_by_code: Mapping[str, int]) -> Response:
    # An unknown code is itself a server bug; Twirp maps it to 500 and so do we.
    status = status_by_code.get(error.code, 500)
    return Response(orjson.dumps(error.body()), status_code=status, media_type="application/json")
