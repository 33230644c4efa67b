"""Twirp's error envelope: every failure leaves the server as `{code, msg, meta}`.

Domain errors become Twirp codes here (one table); the code -> HTTP status map is the spec's
(`TwirpErrorCode.x-http-status`).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from mock_server.domain import errors


class TwirpError(Exception):
    """An error to be answered with Twirp's envelope."""

    def __init__(
        self,
        code: str,
        msg: str,
        meta: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.meta: dict[str, str] = dict(meta or {})
        self.headers: dict[str, str] = dict(headers or {})  # e.g. Retry-After

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg, "meta": self.meta}


# Domain error -> Twirp code. NotOwned's code is a setting (foreign_oa_error), given at start.
CODES: dict[type[errors.DomainError], str] = {
    errors.InvalidField: "invalid_argument",
    errors.Unauthenticated: "unauthenticated",
    errors.NotFound: "not_found",
    errors.NotOwned: "not_found",
    errors.AlreadyExists: "already_exists",
    errors.Conflict: "aborted",
    errors.FailedPrecondition: "failed_precondition",
    errors.Unavailable: "unavailable",
}


class ErrorTable:
    """Domain errors to Twirp errors, and Twirp errors to responses."""

    def __init__(self, status_by_code: Mapping[str, int], foreign_oa_code: str) -> None:
        self.status_by_code = dict(status_by_code)
        self.codes = {**CODES, errors.NotOwned: foreign_oa_code}
        unknown = set(self.codes.values()) - set(status_by_code)
        if unknown:
            raise ValueError(f"{sorted(unknown)} are not Twirp codes of the spec")

    def from_domain(self, error: errors.DomainError) -> TwirpError:
        code = next(
            (code for kind, code in self.codes.items() if isinstance(error, kind)), "internal"
        )
        meta = {"argument": error.field} if error.field else {}
        return TwirpError(code, error.message, meta)

    def response(self, error: TwirpError, headers: Mapping[str, str] | None = None) -> Response:
        # An unknown code is itself a server bug; Twirp maps it to 500 and so do we.
        status = self.status_by_code.get(error.code, 500)
        return Response(
            orjson.dumps(error.body()),
            status_code=status,
            media_type="application/json",
            headers=headers,
        )


def invalid_argument(argument: str, problem: str) -> TwirpError:
    """Twirp's InvalidArgumentError: msg is "<argument> <problem>", meta names the argument."""
    return TwirpError("invalid_argument", f"{argument} {problem}", {"argument": argument})


def bad_route(msg: str, method: str, path: str) -> TwirpError:
    return TwirpError("bad_route", msg, {"twirp_invalid_route": f"{method} {path}"})
