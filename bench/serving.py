"""Serve an ASGI app as `etelecom-sandbox serve` does, with a readiness line on stdout.

Same socket (mock_server.serving.bind: port 0 picks a free port), same uvicorn.Config (access log
off, as the CLI's default) and the same server class, so the ceiling and the preloaded sandbox
run on the very stack the CLI uses. bench/run.py waits for the line before it sends anything.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp

from mock_server import serving


def serve(app: ASGIApp, host: str, port: int, ready_line: Callable[[str], str]) -> None:
    """Bind, then serve until SIGINT or SIGTERM; `ready_line(url)` is printed once requests
    are accepted."""
    sock = serving.bind(host, port)
    line = ready_line(serving.url_of(sock))

    def announce() -> None:
        print(line, flush=True)  # flushed: stdout is a pipe, and run.py is reading it

    serving.serve(sock, serving.config(app), announce)
