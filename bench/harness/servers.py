"""The servers under test, started with process.running: the sandbox holding N synthetic
consents (the CLI on a prebuilt SQLite file or PostgreSQL schema, or serve_loaded.py with the
memory store), a fresh sandbox with its clock frozen (`served`), the bare Starlette ceiling
(ceiling.py) and Prism."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import dataset
from harness import postgres
from harness.process import BENCH, ROOT, Server, children, running
from mock_server.app import build_services
from mock_server.settings import settings_from_env
from results import ServerStart

SPEC = ROOT / "openapi" / "etelecom-zalo-consent.yaml"
PRISM = BENCH / "node_modules" / ".bin" / "prism"
STORES = ("sqlite", "memory", "postgresql")
CLOCK_START = "2026-01-01T00:00:00Z"
# Webhook targets a request names may be anywhere (the spec's example is https://example.com/...):
# the sandbox's sender goes through a proxy on a closed local port instead, so nothing leaves
# this machine. Targets on 127.0.0.1 and localhost are sent to directly (NO_PROXY).
LOCAL_ONLY = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}


def sandbox_cli() -> list[str]:
    """The `etelecom-sandbox` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("etelecom-sandbox")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_server"]


@contextlib.contextmanager
def sandbox(
    store: str,
    stored: int,
    tmp: Path,
    starts: list[ServerStart],
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """The sandbox on `store` with `stored` consents (bench/dataset.py), served until the block
    ends; `workers` > 1 serves a SQLite file with `serve --workers N`; `env` is added to the
    server's environment (ETELECOM_SANDBOX_* settings). How long the set-up took is appended to
    `starts`."""
    name = f"sandbox-{store}-{stored}" + (f"-{workers}-workers" if workers > 1 else "")
    if store == "postgresql":
        with (
            postgres.schema(tmp) as url,
            instances(url, 1, stored, tmp, starts, env) as servers,
        ):
            yield servers[0]
        return
    if workers > 1 and store != "sqlite":
        raise ValueError(f"the benchmark serves --workers on sqlite only, not {store}")
    path = tmp / f"{name}.sqlite3"
    argv = _sandbox_argv(store, stored, path, starts, env)
    argv += ["--workers", str(workers)] if workers > 1 else []
    try:
        with running(name, argv, tmp, env) as server:
            how = "spawn to ready" + (
                " (interpreter, spec, insert_many)" if store == "memory" else ""
            )
            how += f", {workers} workers" if workers > 1 else ""
            starts.append(ServerStart(store, stored, round(server.ready_s, 2), how))
            if workers > 1:
                pid = server.pid
                server = dataclasses.replace(server, workers=lambda: children(pid))
            yield server
    finally:
        for leftover in tmp.glob(f"{path.name}*"):  # the file and its -wal, -shm
            leftover.unlink()


@contextlib.contextmanager
def served(
    store: str, tmp: Path, env: Mapping[str, str] | None = None, frozen: bool = True
) -> Iterator[Server]:
    """A fresh sandbox (`etelecom-sandbox serve`, the demo shop only) on `store` (memory, a
    new SQLite file or a new PostgreSQL schema), its clock frozen at CLOCK_START until a
    request moves it (or, not `frozen`, the CLI's default clock: the wall clock's time,
    running). `env` is added to the server's environment (e.g.
    ETELECOM_SANDBOX_DRAIN_SECONDS), after LOCAL_ONLY; a PostgreSQL cluster's processes count
    as the server's work."""
    name = f"served-{store}"
    path = tmp / f"{name}.sqlite3"
    with contextlib.ExitStack() as stack:
        if store == "postgresql":
            where = stack.enter_context(postgres.schema(tmp))
        else:
            where = "memory" if store == "memory" else f"sqlite:{path}"
        argv = [*sandbox_cli(), "serve", "--host", "127.0.0.1", "--port", "0", "--store", where]
        if frozen:
            argv += ["--clock-start", CLOCK_START, "--clock-rate", "0"]
        try:
            with running(name, argv, tmp, {**LOCAL_ONLY, **(env or {})}) as server:
                if store == "postgresql":
                    server = dataclasses.replace(server, helpers=lambda: postgres.pids(tmp))
                yield server
        finally:
            for leftover in tmp.glob(f"{path.name}*"):  # the file and its -wal, -shm
                leftover.unlink()


def _sandbox_argv(
    store: str, stored: int, path: Path, starts: list[ServerStart], env: Mapping[str, str] | None
) -> list[str]:
    if store == "memory":
        # A memory store starts empty in a new process: serve_loaded.py fills it, then serves.
        argv = [sys.executable, str(BENCH / "serve_loaded.py"), "--port", "0"]
        return [*argv, "--store", "memory", "--consents", str(stored)]
    # The CLI serves a SQLite file as it finds it: fill the file here, then serve it.
    started = time.perf_counter()
    loaded = fill(f"sqlite:{path}", stored, env)
    seconds = round(time.perf_counter() - started, 2)
    starts.append(ServerStart(store, loaded, seconds, "insert_many into the file, in-process"))
    return [
        *sandbox_cli(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--store",
        f"sqlite:{path}",
    ]


@contextlib.contextmanager
def instances(
    url: str,
    count: int,
    stored: int,
    tmp: Path,
    starts: list[ServerStart],
    env: Mapping[str, str] | None = None,
) -> Iterator[list[Server]]:
    """`count` sandbox processes (the CLI) on one PostgreSQL store holding the demo shop and
    `stored` consents, `env` added to their environment; the cluster's processes count as
    their work."""
    started = time.perf_counter()
    loaded = fill(url, stored, env)
    seconds = round(time.perf_counter() - started, 2)
    starts.append(ServerStart("postgresql", loaded, seconds, "insert_many (COPY), in-process"))
    argv = [*sandbox_cli(), "serve", "--host", "127.0.0.1", "--port", "0", "--store", url]
    with contextlib.ExitStack() as stack:
        servers = []
        for n in range(count):
            name = f"sandbox-postgresql-{stored}-{n}"
            server = stack.enter_context(running(name, argv, tmp, env))
            starts.append(ServerStart("postgresql", loaded, round(server.ready_s, 2), "spawn"))
            servers.append(dataclasses.replace(server, helpers=lambda: postgres.pids(tmp)))
        yield servers


def fill(store: str, stored: int, env: Mapping[str, str] | None = None) -> int:
    """The demo shop and `stored` synthetic consents in a store (`sqlite:PATH` or a PostgreSQL
    URL), made with the settings `env` gives the server: a store keeps its clock, and the server
    then finds it as it was made (a frozen clock stays frozen), whatever its own environment
    says."""
    services = build_services(settings_from_env(env or {}).with_overrides(store=store))
    try:
        return services.store.insert_many(dataset.consents(services.shops.demo_shop(), stored))
    finally:
        services.close()


def ceiling(body_size: int) -> list[str]:
    return [sys.executable, str(BENCH / "ceiling.py"), "--port", "0", "--body-size", str(body_size)]


def prism() -> list[str] | None:
    """Prism mocking the wire spec with its defaults; None when `npm ci` was not run."""
    if not PRISM.exists():
        return None
    return [str(PRISM), "mock", "-h", "127.0.0.1", "-p", "0", str(SPEC)]
