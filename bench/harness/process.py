"""Start a server subprocess, wait for its readiness line on stdout, always stop it.

No sleeps: the URL comes from the line the server prints once it accepts requests (port 0, so
the server picks a free port). stderr goes to a log file in the run's temp directory, and its
tail is the error message when a server never becomes ready.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
READY = re.compile(r"(?:ready|listening) on (http://[0-9A-Za-z.\-\[\]:]+)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # Prism colours its log lines
START_TIMEOUT_S = 300.0  # loading 1,000,000 consents into the memory store takes ~10 s here
STOP_TIMEOUT_S = 15.0
# What a failing server, wrk run or CLI command raises: a figure that hits one is reported as a
# problem and the run goes on with the next figure.
FAILURES = (RuntimeError, OSError, subprocess.SubprocessError)


class ServerError(RuntimeError):
    pass


def _none() -> list[int]:
    return []


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    ready_s: float  # from spawning the process to its readiness line
    # Other processes doing this server's work (its database's), asked at each CPU sample.
    helpers: Callable[[], list[int]] = _none
    # The processes serving its requests besides `pid` (`serve --workers N`: pid supervises);
    # their CPU is the server's.
    workers: Callable[[], list[int]] = _none


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def child_env() -> dict[str, str]:
    """The environment without ETELECOM_SANDBOX_* overrides, so every server runs on defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ETELECOM_SANDBOX_")}


@contextlib.contextmanager
def running(
    name: str, argv: Sequence[str], log_dir: Path, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """Start `argv`, wait for its readiness line, yield the server, and stop it (SIGINT).
    `env` is added to the child's environment (child_env)."""
    spawned = time.perf_counter()
    log_path = log_dir / (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") + ".log")
    with open(log_path, "wb") as stderr:
        proc = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env={**child_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        assert proc.stdout is not None
        found: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_stdout, args=(proc.stdout, found), daemon=True)
        reader.start()
        try:
            try:
                url = found.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                url = None
            if url is None:
                raise ServerError(f"{name} did not become ready: {tail(log_path)}")
            yield Server(url, proc.pid, time.perf_counter() - spawned)
        finally:
            _stop(proc)
            reader.join(timeout=STOP_TIMEOUT_S)
            proc.stdout.close()


def _read_stdout(stream: IO[bytes], found: queue.Queue[str | None]) -> None:
    for raw in iter(stream.readline, b""):
        match = READY.search(ANSI.sub("", raw.decode(errors="replace")))
        if match:
            found.put(match.group(1))
            break
    else:
        found.put(None)  # the server exited before it was ready
        return
    # Keep the pipe drained (Prism logs every request) until the server exits.
    while stream.read(65536):
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn and Prism both shut down cleanly on SIGINT
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log, on one line, for an error message."""
    text = path.read_text(errors="replace").strip().splitlines()[-lines:]
    return " | ".join(text) or "(no output on stderr)"
