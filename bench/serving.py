"""Serve an ASGI app exactly as `etelecom-sandbox serve` does (mock_server/cli.py).

Same bind helper (SO_REUSEADDR, backlog 2048, port 0 picks a free port), same server class
(prints one readiness line on stdout once it accepts requests), same uvicorn.Config arguments:
uvicorn's defaults otherwise (auto loop and HTTP parser: uvloop and httptools when installed,
one process), so the ceiling and the preloaded sandbox run on the very same server stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn

from mock_server.cli import _bind, _Server, _url_host


def serve(app: Any, host: str, port: int, ready_line: Callable[[str], str]) -> None:
    """Bind, build the readiness line from the real URL, and run until SIGINT or SIGTERM."""
    sock = _bind(host, port)
    real_host, real_port = sock.getsockname()[:2]
    url = f"http://{_url_host(real_host)}:{real_port}"
    # The arguments cli.serve passes (access log off, as the CLI's default).
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    _Server(config, ready_line(url)).run(sockets=[sock])
