"""The framework ceiling: a bare Starlette app on the sandbox's uvicorn set-up.

It answers POST /v1/shop.Zalo/RequestConsent by reading the request body and returning a constant
JSON body of `--body-size` bytes (the size of a real RequestConsent response, measured first),
with no auth, no validation, no store. Nothing the sandbox does per request can be faster than
this on the same machine.

    python bench/ceiling.py --body-size 445 [--host 127.0.0.1] [--port 0]
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serving import serve

PATH = "/v1/shop.Zalo/RequestConsent"


def constant_body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    frame = b'{"pad":""}'
    if size < len(frame):
        raise ValueError(f"a JSON body of {size} bytes is too small to build")
    return b'{"pad":"' + b"x" * (size - len(frame)) + b'"}'


def make_app(body: bytes) -> Starlette:
    async def request_consent(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route(PATH, request_consent, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--body-size", type=int, required=True)
    args = parser.parse_args()
    app = make_app(constant_body(args.body_size))
    serve(
        app,
        args.host,
        args.port,
        lambda url: f"bench-ceiling ready on {url} (bare Starlette, {args.body_size}-byte body)",
    )


if __name__ == "__main__":
    main()
