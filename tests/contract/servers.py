"""Serve any ASGI app on 127.0.0.1:0 from a thread (recording what it receives, if asked), and
run the kit's CLI or pytest against it.

The socket is bound and listening before uvicorn starts, so a client may connect at once: its
connection waits in the backlog until the server accepts it. Nothing sleeps.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from contract_tests.gateway import read_body, replay
from mock_server import Settings, create_app
from tests.specs import SPECS

START = "2026-01-01T00:00:00Z"


def sandbox_app() -> ASGIApp:
    return create_app(Settings(store="memory", clock_rate=0, clock_start=START), SPECS)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Recorder:
    """An ASGI app that notes every request, then hands it to `inner`."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.received: list[Received] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.received.append(Received(scope["method"], scope["path"], headers, body))
        await self.inner(scope, replay(body, receive), send)


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """`app` over HTTP; yields its root URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    junit: str


def run_pytest(args: Sequence[str], tmp_path: Path, env: dict[str, str]) -> Run:
    """`pytest --pyargs contract_tests args` from `tmp_path`, with `env` added."""
    junit = tmp_path / "pytest-junit.xml"
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    result = subprocess.run(
        [*pytest, "--pyargs", "contract_tests", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    text = junit.read_text(encoding="utf-8") if junit.exists() else ""
    return Run(result.returncode, result.stdout, result.stderr, text)


def run_cli(command: str, args: Sequence[str], tmp_path: Path, timeout: float = 300) -> Run:
    """`etelecom-sandbox <command> args`, in a fresh interpreter, with its output and JUnit XML."""
    junit = tmp_path / "junit.xml"
    extra = ["--junit", str(junit)] if command == "contract" else []
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", command, *args, *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=tmp_path,
    )
    text = junit.read_text(encoding="utf-8") if junit.exists() else ""
    return Run(result.returncode, result.stdout, result.stderr, text)
