"""Run `etelecom-sandbox serve` as a real process and wait for its readiness line (no sleeping)."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

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
