"""Serve any ASGI app on 127.0.0.1:0 from a thread (recording what it receives, if asked), and
run the kit's CLI or pytest against it: in this process (`run_cli`, `run_pytest`), or the CLI in
a real one (`run_cli_process`).

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
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import click
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from contract_tests import cli as kit_cli
from contract_tests.gateway import read_body, replay
from contract_tests.redact import Redactor
from mock_server import Settings, create_app
from tests.inline_pytest import run_pytest as run_pytest_inline
from tests.processes import invoke
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
    """`pytest --pyargs contract_tests args` from `tmp_path`, with `env` added: a user's pytest,
    in this process (tests/inline_pytest.py), its installed plugins loaded as usual."""
    junit = tmp_path / "pytest-junit.xml"
    pytest_ = ["-p", "no:cacheprovider", f"--junitxml={junit}", "--pyargs", "contract_tests"]
    ran = run_pytest_inline([*pytest_, *args], tmp_path, {**os.environ, **env})
    text = junit.read_text(encoding="utf-8") if junit.exists() else ""
    return Run(ran.code, ran.out, ran.err, text)


def run_suites_inline(
    args: list[str], junit: Path, keys: dict[str, str], redactor: Redactor, cwd: str
) -> int:
    """`contract`'s run of the suites (contract_tests.cli.run_suites) in this process: pytest
    with the child's arguments and environment, its output echoed line by line, scrubbed."""
    ran = run_pytest_inline(kit_cli.pytest_args(args, junit), cwd, kit_cli.child_env(keys), True)
    for line in ran.out.splitlines(keepends=True):
        click.echo(redactor.scrub(line), nl=False)
    return ran.code


def run_cli(command: str, args: Sequence[str], tmp_path: Path) -> Run:
    """`etelecom-sandbox <command> args` from `tmp_path`, in this process (`contract` runs its
    suites here too), with its output and JUnit XML."""
    junit = tmp_path / "junit.xml"
    extra = ["--junit", str(junit)] if command == "contract" else []
    with chdir(tmp_path), mock.patch.object(kit_cli, "run_suites", run_suites_inline):
        ran = invoke([command, *args, *extra])
    text = junit.read_text(encoding="utf-8") if junit.exists() else ""
    return Run(ran.returncode, ran.stdout, ran.stderr, text)


def run_cli_process(
    command: str, args: Sequence[str], tmp_path: Path, env: dict[str, str] | None = None
) -> Run:
    """`etelecom-sandbox <command> args`, in a fresh interpreter, with its output and JUnit XML
    (`env`, when given, is its whole environment)."""
    junit = tmp_path / "junit.xml"
    extra = ["--junit", str(junit)] if command == "contract" else []
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", command, *args, *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    text = junit.read_text(encoding="utf-8") if junit.exists() else ""
    return Run(result.returncode, result.stdout, result.stderr, text)
