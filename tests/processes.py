"""Run `etelecom-sandbox` as a real process and wait for its readiness line (no sleeping), or in
this process: `invoke` runs the console script's entry and `serving_in_process` runs `serve`
with its server in a thread. A real process costs an interpreter start and every import, so a
few tests use one (one per command) and the others run the same code here."""

from __future__ import annotations

import io
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import IO
from unittest import mock

import uvicorn

from mock_server import serving as server_module
from mock_server.cli import run

READY = re.compile(r"etelecom-sandbox ready on (http://\S+)")


def read_line(stream: IO[str] | None, timeout: float = 30.0) -> str:
    """One line of a process's output, waiting at most `timeout` seconds (select, not sleep)."""
    assert stream is not None
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                return stream.readline()
    raise TimeoutError("no line from the process in time")


@contextmanager
def serving(
    args: Sequence[str],
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Iterator[str]:
    """Start serve with `args` on port 0 and yield its base URL; stop it afterwards."""
    with serve_process(args, python, env, cwd) as (url, _):
        yield url


@contextmanager
def serve_process(
    args: Sequence[str],
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Like `serving`, yielding the process too (to read what it printed on stderr)."""
    process = subprocess.Popen(
        [python, "-m", "mock_server", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    try:
        line = read_line(process.stdout)
        match = READY.search(line)
        if match is None:
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"no readiness line: {line!r} {err!r}")
        yield match.group(1), process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def serving_all(
    arg_lists: Sequence[Sequence[str]], env: dict[str, str] | None = None
) -> Iterator[list[tuple[str, subprocess.Popen[str]]]]:
    """Start several `serve` processes at once (each on port 0) and yield (URL, process) for
    each once all are ready; stop the ones still running afterwards."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        for args in arg_lists
    ]
    try:
        started = []
        for process in processes:
            line = read_line(process.stdout, timeout=60)
            match = READY.search(line)
            if match is None:
                process.kill()
                _, err = process.communicate(timeout=10)
                raise AssertionError(f"no readiness line: {line!r} {err!r}")
            started.append((match.group(1), process))
        yield started
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait(timeout=10)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def run_cli(args: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class Ran:
    """What `invoke` saw, with the names of subprocess.CompletedProcess."""

    returncode: int
    stdout: str
    stderr: str


def invoke(args: Sequence[str]) -> Ran:
    """`etelecom-sandbox args` in this process: the console script's entry (`run`, which turns
    every failure into one line and an exit code), with its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "argv", ["etelecom-sandbox", *args]),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            run()
        except SystemExit as exit_:
            code = exit_.code
        else:
            raise AssertionError("the console script returned without an exit code")
    returncode = code if isinstance(code, int) else 0 if code is None else 1
    return Ran(returncode, out.getvalue(), err.getvalue())


@contextmanager
def serving_in_process(args: Sequence[str]) -> Iterator[tuple[str, Ran]]:
    """`serve --port 0 args` in this process: the command runs as from a shell, up to the
    server, which runs in a thread (instead of the foreground) until the block ends. Yields the
    URL of its readiness line and what the command printed by then."""
    started: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def in_a_thread(sock: socket.socket, cfg: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        ready = threading.Event()

        def announce() -> None:
            on_ready()
            ready.set()

        server = server_module._Server(cfg, announce, server_module.QUICK_STOP)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        started.append((server, thread, sock))
        thread.start()
        if not ready.wait(server_module.START_TIMEOUT):
            raise AssertionError("serve did not start in time")

    try:
        with mock.patch.object(server_module, "serve", in_a_thread):
            ran = invoke(["serve", "--port", "0", *args])
        match = READY.search(ran.stdout)
        assert ran.returncode == 0 and match is not None, ran
        yield match.group(1), ran
    finally:
        for server, thread, sock in started:
            server.should_exit = True
            thread.join(server_module.START_TIMEOUT)
            sock.close()
