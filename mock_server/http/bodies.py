"""What every HTTP endpoint shares: JSON in and out, Content-Type and body decoding rules."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_server.http.twirp import TwirpError, bad_route

JSON = "application/json"


def json_response(data: Any, status: int = 200) -> Response:
    return Response(encoded(data), status_code=status, media_type=JSON)


def encoded(data: Any) -> bytes:
    """The JSON of `data`; an answer encoded already (bytes) is that answer."""
    return data if isinstance(data, bytes) else orjson.dumps(data)


def check_content_type(request: Request) -> None:
    """Twirp routes on Content-Type: anything but JSON is `bad_route` (parameters ignored)."""
    header = request.headers.get("content-type", "")
    if header.split(";", 1)[0].strip().lower() != JSON:
        raise bad_route(f'unexpected Content-Type: "{header}"', request.method, request.url.path)


async def read_object(request: Request, empty_is: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body as a JSON object; anything undecodable, or not an object, is `malformed`."""
    raw = await request.body()
    if not raw.strip() and empty_is is not None:
        return dict(empty_is)
    return json_object(raw)


def json_object(raw: bytes) -> dict[str, Any]:
    """A body that must be a JSON object; anything else is Twirp's `malformed`."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TwirpError("malformed", f"the json request could not be decoded: {exc.msg}") from None
    if not isinstance(body, dict):
        raise TwirpError(
            "malformed", "the json request could not be decoded: the body is not a JSON object"
        )
    return body
