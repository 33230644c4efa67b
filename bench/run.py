"""Load benchmark: the sandbox (SQLite and memory stores) beside a Starlette ceiling and Prism.

    python bench/run.py [--duration 10] [--connections 32] [--quick]

Needs wrk (`apt-get install wrk`) and, for the Prism figures, `npm ci --prefix bench`. Every server
is a subprocess on 127.0.0.1, port 0, awaited on its readiness line and stopped at the end; every
load run has a fixed duration. The table goes to stdout, the figures to bench/results/latest.json.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import dataset
from mock_server.sandbox import Sandbox

from mock_server.settings import Settings

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SPEC = ROOT / "openapi" / "etelecom-zalo-consent.yaml"
PRISM = BENCH / "node_modules" / ".bin" / "prism"
RESULTS = BENCH / "results" / "latest.json"

READY = re.compile(r"(?:ready|listening) on (http://[0-9A-Za-z.\-\[\]:]+)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
START_TIMEOUT_S = 300.0  # loading 1,000,000 consents into the memory store takes ~10 s here
STOP_TIMEOUT_S = 15.0
WARM_UP_S = 1
NOISY_CPU = 0.25  # cores other processes may use during a run before its figure is flagged


# --- workloads: the wrk script and, for the check request, the same body in Python ---------


@dataclass(frozen=True)
class Workload:
    operation: str
    query: str  # RequestConsent: "" or "distinct phones"; the list: "phone" or "unfiltered"
    script: str  # bench/<script>: sets the same method, body and headers for wrk
    path: str
    body: dict[str, Any]

    @property
    def is_list(self) -> bool:
        return self.operation == "ListRequestConsent"


REQUEST_CONSENT = Workload(
    "RequestConsent",
    "",
    "request_consent.lua",
    "/v1/shop.Zalo/RequestConsent",
    {
        "oa_id": "1234567890123456789",
        "phone": dataset.HOT_PHONE,
        "call_type": "audio",
        "reason_code": "update_order",
    },
)
# The same call with a new phone each time (the script varies it; the check uses its own phone):
# the figure without the duplicate-of-a-waiting-request path the fixed phone exercises.
REQUEST_CONSENT_DISTINCT = Workload(
    "RequestConsent",
    "distinct phones",
    "request_consent_distinct.lua",
    "/v1/shop.Zalo/RequestConsent",
    {**REQUEST_CONSENT.body, "phone": "0960000001"},
)
LIST_BY_PHONE = Workload(
    "ListRequestConsent",
    "phone",
    "list_by_phone.lua",
    "/v1/shop.Zalo/ListRequestConsent",
    {"filter": {"phone": dataset.HOT_PHONE}, "paging": {"limit": dataset.PAGE_LIMIT}},
)
LIST_FIRST_PAGE = Workload(
    "ListRequestConsent",
    "unfiltered",
    "list_first_page.lua",
    "/v1/shop.Zalo/ListRequestConsent",
    {"paging": {"limit": dataset.PAGE_LIMIT}},
)
API_KEY = Settings().demo_api_key


# --- results ------------------------------------------------------------------------------


@dataclass
class Measurement:
    section: str  # throughput | ceiling | prism | scaling
    server: str  # sandbox | ceiling | prism
    store: str  # sqlite | memory | "" (not the sandbox)
    operation: str
    query: str
    stored: int | None  # consents in the store before the run (sandbox only)
    connections: int
    threads: int
    duration_s: int
    expected_items: int | None = None
    check_status: int | None = None
    check_bytes: int | None = None
    check_items: int | None = None
    problem: str = ""  # set when the check failed and nothing was measured
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    non_2xx: int = 0  # wrk's "Non-2xx or 3xx responses": answered, but not counted in rps
    socket_errors: int = 0
    rps: float | None = None  # successful (2xx) responses per second
    p50_ms: float | None = None
    mean_ms: float | None = None
    p99_ms: float | None = None
    # CPU cores other processes (not this server, wrk or run.py) kept busy during the run, on
    # average: how much the shared machine disturbed this figure.
    other_cpu: float | None = None

    @property
    def label(self) -> str:
        what = self.operation + (f" ({self.query})" if self.query else "")
        where = f"{self.server}/{self.store}" if self.store else self.server
        return f"{where} {what}"


@dataclass
class Target:
    name: str
    rule: str  # e.g. ">= 0.5"
    value: float | None
    detail: str
    status: str  # PASS | MISS | N/A


@dataclass
class Run:
    args: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    request_consent_bytes: int | None = None


# --- servers ------------------------------------------------------------------------------


class ServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def child_env() -> dict[str, str]:
    """The environment without ETELECOM_SANDBOX_* overrides, so every server runs on defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ETELECOM_SANDBOX_")}


@contextlib.contextmanager
def running(
    name: str, argv: Sequence[str], log_dir: Path, on_ready: Callable[[float], None] | None = None
) -> Iterator[Server]:
    """Start a server, wait for its readiness line on stdout, yield it, always stop it.

    `on_ready` gets the seconds from spawning to the readiness line.
    """
    spawned = time.perf_counter()
    log_path = log_dir / (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") + ".log")
    with open(log_path, "wb") as stderr:
        proc = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        found: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        reader = threading.Thread(target=_read_stdout, args=(proc.stdout, found), daemon=True)
        reader.start()
        try:
            try:
                url = found.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                url = None
            if url is None:
                raise ServerError(f"{name} did not become ready: {_tail(log_path)}")
            if on_ready is not None:
                on_ready(time.perf_counter() - spawned)
            yield Server(url, proc.pid)
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


def _tail(path: Path, lines: int = 5) -> str:
    text = path.read_text(errors="replace").strip().splitlines()[-lines:]
    return " | ".join(text) or "(no output on stderr)"


def sandbox_cli() -> list[str]:
    script = Path(sys.executable).with_name("etelecom-sandbox")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_server"]


def sqlite_server(path: Path, stored: int, run: Run) -> list[str]:
    """Build the SQLite file in-process, then the CLI command that serves it."""
    started = time.perf_counter()
    sandbox = Sandbox(Settings(store=f"sqlite:{path}"))
    try:
        loaded = sandbox.store.insert_many(dataset.consents(sandbox.demo_shop, stored))
    finally:
        sandbox.close()
    run.loads.append(
        {
            "store": "sqlite",
            "consents": loaded,
            "seconds": round(time.perf_counter() - started, 2),
            "how": "insert_many into the file, in-process",
        }
    )
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


def record_start(run: Run, store: str, stored: int) -> Callable[[float], None]:
    how = (
        "spawn to ready (interpreter, spec, insert_many)" if store == "memory" else "spawn to ready"
    )

    def record(seconds: float) -> None:
        run.loads.append(
            {"store": store, "consents": stored, "seconds": round(seconds, 2), "how": how}
        )

    return record


def memory_server(stored: int) -> list[str]:
    return [
        sys.executable,
        str(BENCH / "serve_loaded.py"),
        "--port",
        "0",
        "--store",
        "memory",
        "--consents",
        str(stored),
    ]


# --- noise: CPU used by everything else during a run -------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSample:
    at: float
    busy: float  # machine-wide busy CPU seconds (/proc/stat)
    ours: float  # CPU seconds of the server, of finished children (wrk) and of this process

    @classmethod
    def take(cls, server_pid: int) -> CpuSample:
        now = time.monotonic()
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
            busy = (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS  # minus idle and iowait
            with open(f"/proc/{server_pid}/stat") as stat:
                parts = stat.read().rpartition(")")[2].split()
            server = (int(parts[11]) + int(parts[12])) / _TICKS  # utime + stime
        except (OSError, ValueError, IndexError):
            return cls(now, float("nan"), float("nan"))
        me, children = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        mine = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        return cls(now, busy, server + mine)

    def others_since(self, before: CpuSample) -> float | None:
        elapsed = self.at - before.at
        others = (self.busy - before.busy) - (self.ours - before.ours)
        if elapsed <= 0 or others != others:  # NaN: /proc was not readable
            return None
        return round(max(0.0, others / elapsed), 2)


# --- requests -----------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def post(url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
    )
    try:
        with _OPENER.open(request, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())
    except OSError as exc:
        return 0, str(exc).encode()


_WRK_RUNS = itertools.count()


def wrk(url: str, script: str, duration: int, connections: int, threads: int) -> dict[str, Any]:
    # Scripts that make up bodies tell runs and threads apart with these.
    env = {**os.environ, "BENCH_RUN": str(next(_WRK_RUNS)), "BENCH_THREADS": str(threads)}
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        script,
        url,
    ]
    done = subprocess.run(
        argv,
        cwd=BENCH,
        env=env,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    raise RuntimeError(f"wrk gave no result (exit {done.returncode}): {done.stderr.strip()}")


def measure(run: Run, m: Measurement, server: Server, workload: Workload) -> Measurement:
    """Check one request, then load the endpoint with wrk. A failed check skips the load."""
    run.measurements.append(m)
    url = server.url + workload.path
    status, body = post(url, workload.body)
    m.check_status, m.check_bytes = status, len(body)
    if status != 200:
        m.problem = f"check request answered HTTP {status}: {body[:200].decode(errors='replace')}"
    elif workload.is_list:
        try:
            m.check_items = len(json.loads(body)["consents"])
        except (ValueError, KeyError, TypeError):
            m.problem = f"the list response has no consents array: {body[:200]!r}"
        else:
            if m.expected_items is not None and m.check_items != m.expected_items:
                m.problem = f"the list returned {m.check_items} items, not {m.expected_items}"
    if m.problem:
        run.problems.append(f"{m.label}: {m.problem}")
        print(f"  !! {m.label}: {m.problem}", flush=True)
        return m
    wrk(url, workload.script, WARM_UP_S, m.connections, m.threads)
    before = CpuSample.take(server.pid)
    result = wrk(url, workload.script, m.duration_s, m.connections, m.threads)
    m.other_cpu = CpuSample.take(server.pid).others_since(before)
    errors = result["errors"]
    latency = result["latency_us"]
    seconds = result["duration_us"] / 1e6
    m.requests = int(result["requests"])
    m.non_2xx = int(errors["status"])
    m.socket_errors = sum(int(errors[k]) for k in ("connect", "read", "write", "timeout"))
    m.rps = (m.requests - m.non_2xx) / seconds
    m.p50_ms, m.mean_ms, m.p99_ms = (latency[k] / 1000 for k in ("p50", "mean", "p99"))
    if m.non_2xx:
        m.notes.append(f"{m.non_2xx} of {m.requests} responses were not 2xx (not counted)")
    if m.socket_errors:
        m.notes.append(f"{m.socket_errors} socket errors/timeouts")
    print(
        f"  {m.label:<48} {m.rps:>9,.0f} req/s  p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms"
        + (f"  [{'; '.join(m.notes)}]" if m.notes else ""),
        flush=True,
    )
    return m


# --- the four sections --------------------------------------------------------------------


def section_sandbox(run: Run, args: argparse.Namespace, tmp: Path) -> None:
    stored = 10_000
    print(f"\n[1] sandbox, {stored:,} consents stored, {args.connections} connections", flush=True)
    for store in ("sqlite", "memory"):
        try:
            if store == "sqlite":
                argv = sqlite_server(tmp / "throughput.sqlite3", stored, run)
            else:
                argv = memory_server(stored)
            name = f"sandbox-{store}-{stored}"
            with running(name, argv, tmp, record_start(run, store, stored)) as server:
                common = {
                    "server": "sandbox",
                    "store": store,
                    "stored": stored,
                    "connections": args.connections,
                    "threads": args.threads,
                    "duration_s": args.duration,
                }
                listed = Measurement(
                    "throughput",
                    operation=LIST_BY_PHONE.operation,
                    query=LIST_BY_PHONE.query,
                    expected_items=dataset.expected_items(stored, phone_filter=True),
                    **common,
                )
                measure(run, listed, server, LIST_BY_PHONE)
                requested = Measurement(
                    "throughput", operation=REQUEST_CONSENT.operation, query="", **common
                )
                measure(run, requested, server, REQUEST_CONSENT)
                if run.request_consent_bytes is None and requested.check_status == 200:
                    run.request_consent_bytes = requested.check_bytes
                distinct = Measurement(
                    "throughput",
                    operation=REQUEST_CONSENT_DISTINCT.operation,
                    query=REQUEST_CONSENT_DISTINCT.query,
                    **common,
                )
                measure(run, distinct, server, REQUEST_CONSENT_DISTINCT)
        except (ServerError, RuntimeError, subprocess.SubprocessError) as exc:
            run.problems.append(f"sandbox/{store}: {exc}")
            print(f"  !! sandbox/{store}: {exc}", flush=True)


def section_ceiling(run: Run, args: argparse.Namespace, tmp: Path) -> None:
    size = run.request_consent_bytes
    print(f"\n[2] framework ceiling: bare Starlette, constant {size}-byte body", flush=True)
    if size is None:
        run.problems.append("ceiling: no RequestConsent response to take the body size from")
        print("  !! skipped: no RequestConsent response to take the body size from", flush=True)
        return
    argv = [sys.executable, str(BENCH / "ceiling.py"), "--port", "0", "--body-size", str(size)]
    try:
        with running("ceiling", argv, tmp) as server:
            m = Measurement(
                "ceiling",
                "ceiling",
                "",
                REQUEST_CONSENT.operation,
                "",
                None,
                args.connections,
                args.threads,
                args.duration,
            )
            measure(run, m, server, REQUEST_CONSENT)
            if m.check_bytes != size:
                m.notes.append(f"body is {m.check_bytes} bytes, not {size}")
    except (ServerError, RuntimeError, subprocess.SubprocessError) as exc:
        run.problems.append(f"ceiling: {exc}")
        print(f"  !! ceiling: {exc}", flush=True)


def section_prism(run: Run, args: argparse.Namespace, tmp: Path) -> None:
    print(f"\n[3] Prism mocking {SPEC.relative_to(ROOT)}", flush=True)
    if not PRISM.exists():
        run.problems.append("prism: not installed (run `npm ci --prefix bench`)")
        print("  !! skipped: run `npm ci --prefix bench` first", flush=True)
        return
    argv = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", "0", str(SPEC)]
    try:
        with running("prism", argv, tmp) as server:
            for workload in (LIST_BY_PHONE, REQUEST_CONSENT):
                m = Measurement(
                    "prism",
                    "prism",
                    "",
                    workload.operation,
                    workload.query,
                    None,
                    args.connections,
                    args.threads,
                    args.duration,
                )
                measure(run, m, server, workload)
                if workload.is_list and m.check_items is not None:
                    m.notes.insert(0, f"static example: {m.check_items} item(s), no paging")
    except (ServerError, RuntimeError, subprocess.SubprocessError) as exc:
        run.problems.append(f"prism: {exc}")
        print(f"  !! prism: {exc}", flush=True)


def section_scaling(run: Run, args: argparse.Namespace, tmp: Path) -> None:
    sizes = (1_000, args.large)
    print(
        f"\n[4] list latency at {sizes[0]:,} vs {sizes[1]:,} stored, 1 connection, 1 thread",
        flush=True,
    )
    for store in ("sqlite", "memory"):
        for stored in sizes:
            try:
                if store == "sqlite":
                    argv = sqlite_server(tmp / f"scaling-{stored}.sqlite3", stored, run)
                else:
                    argv = memory_server(stored)
                name = f"sandbox-{store}-{stored}"
                with running(name, argv, tmp, record_start(run, store, stored)) as server:
                    for workload in (LIST_FIRST_PAGE, LIST_BY_PHONE):
                        m = Measurement(
                            "scaling",
                            "sandbox",
                            store,
                            workload.operation,
                            workload.query,
                            stored,
                            connections=1,
                            threads=1,
                            duration_s=args.duration,
                            expected_items=dataset.expected_items(
                                stored, phone_filter=workload.query == "phone"
                            ),
                        )
                        measure(run, m, server, workload)
            except (ServerError, RuntimeError, subprocess.SubprocessError) as exc:
                run.problems.append(f"scaling sandbox/{store} {stored}: {exc}")
                print(f"  !! sandbox/{store} {stored:,}: {exc}", flush=True)
            finally:
                (tmp / f"scaling-{stored}.sqlite3").unlink(missing_ok=True)


# --- targets and the table ----------------------------------------------------------------


def find(run: Run, **where: Any) -> Measurement | None:
    for m in run.measurements:
        if all(getattr(m, k) == v for k, v in where.items()):
            return m
    return None


def ratio_target(
    name: str, top: Measurement | None, bottom: Measurement | None, rule: str, metric: str
) -> Target:
    a = getattr(top, metric) if top else None
    b = getattr(bottom, metric) if bottom else None
    if not a or not b:
        return Target(name, rule, None, "not measured", "N/A")
    value = a / b
    op, threshold = rule.split()
    ok = value >= float(threshold) if op == ">=" else value <= float(threshold)
    unit = "req/s" if metric == "rps" else "ms"
    fmt = "{:,.0f}" if metric == "rps" else "{:.2f}"
    detail = f"{fmt.format(a)} / {fmt.format(b)} {unit}"
    return Target(name, rule, value, detail, "PASS" if ok else "MISS")


def targets(run: Run, large: int) -> list[Target]:
    out: list[Target] = []
    ceiling = find(run, server="ceiling")
    prism_rc = find(run, server="prism", operation="RequestConsent")
    prism_list = find(run, server="prism", operation="ListRequestConsent")
    for store in ("sqlite", "memory"):
        for query in ("", "distinct phones"):
            rc = find(
                run, section="throughput", store=store, operation="RequestConsent", query=query
            )
            name = "RequestConsent" + (f" ({query})" if query else "")
            out.append(ratio_target(f"{name} {store} / ceiling", rc, ceiling, ">= 0.5", "rps"))
            out.append(ratio_target(f"{name} {store} / Prism", rc, prism_rc, ">= 3", "rps"))
    for store in ("sqlite", "memory"):
        listed = find(run, section="throughput", store=store, operation="ListRequestConsent")
        out.append(
            ratio_target(f"ListRequestConsent {store} / Prism", listed, prism_list, ">= 2", "rps")
        )
    big = f"{large // 1000:,}k" if large < 1_000_000 else f"{large // 1_000_000}M"
    for store in ("sqlite", "memory"):
        for query in ("unfiltered", "phone"):
            small_m = find(run, section="scaling", store=store, query=query, stored=1_000)
            large_m = find(run, section="scaling", store=store, query=query, stored=large)
            out.append(
                ratio_target(
                    f"p50 list {query} {store}: {big} / 1k", large_m, small_m, "<= 1.5", "p50_ms"
                )
            )
    return out


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_table(run: Run, found: list[Target]) -> None:
    print(
        "\nMeasurements (req/s counts 2xx responses only; latencies from wrk; other = CPU cores"
        " other processes used meanwhile)"
    )
    header = (
        f"{'case':<50} {'stored':>9} {'conn':>4} {'req/s':>9} {'p50 ms':>8} "
        f"{'mean ms':>8} {'p99 ms':>8} {'other':>5}  notes"
    )
    print(header)
    print("-" * len(header))
    for m in run.measurements:
        notes = "; ".join([f"FAILED: {m.problem}"] if m.problem else m.notes)
        stored = "-" if m.stored is None else f"{m.stored:,}"
        print(
            f"{m.label:<50} {stored:>9} {m.connections:>4} {_num(m.rps, ',.0f'):>9} "
            f"{_num(m.p50_ms, '.2f'):>8} {_num(m.mean_ms, '.2f'):>8} {_num(m.p99_ms, '.2f'):>8}"
            f" {_num(m.other_cpu, '.2f'):>5}  {notes}"
        )
    print("\nTargets")
    header = f"{'target':<52} {'ratio':>7} {'rule':>7}  {'':4}  detail"
    print(header)
    print("-" * (len(header) + 20))
    for t in found:
        print(f"{t.name:<52} {_num(t.value, '.2f'):>7} {t.rule:>7}  {t.status:4}  {t.detail}")
    noisy = [m for m in run.measurements if m.other_cpu is not None and m.other_cpu > NOISY_CPU]
    if noisy:
        worst = max(m.other_cpu or 0.0 for m in noisy)
        print(
            f"\nNoise: {len(noisy)} of {len(run.measurements)} runs shared the machine with other"
            f" processes using > {NOISY_CPU} core (up to {worst:.2f}): their figures may be low."
        )
    if run.problems:
        print("\nProblems")
        for problem in run.problems:
            print(f"  - {problem}")


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable ({exc})"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else ""
    )


def code_version() -> str:
    """The commit benchmarked (`-dirty` with local changes), if this is a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty", "--exclude", "*"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "not a git checkout"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=None, help="seconds per load run [10]")
    parser.add_argument("--connections", type=int, default=32, help="for the throughput runs")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads for throughput runs")
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 2 s runs, 100k instead of 1M stored"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--note", default="", help="free text kept in the JSON (what was run)")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 2 if args.quick else 10
    args.large = 100_000 if args.quick else 1_000_000
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    print(f"etelecom-sandbox bench: code {code_version()}, {os.cpu_count()} CPUs", flush=True)
    started = time.perf_counter()
    run = Run({k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()})
    with tempfile.TemporaryDirectory(prefix="etelecom-bench-") as tmp_name:
        tmp = Path(tmp_name)
        section_sandbox(run, args, tmp)
        section_ceiling(run, args, tmp)
        section_prism(run, args, tmp)
        section_scaling(run, args, tmp)
    found = targets(run, args.large)
    print_table(run, found)

    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.0f} s in all; results in {args.output}")
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "wrk": tool_version(["wrk", "-v"]),
            "prism": tool_version([str(PRISM), "--version"]) if PRISM.exists() else None,
        },
        "code": code_version(),
        "args": run.args,
        "scaling_latency_metric": "p50 of a 1-connection, 1-thread wrk run",
        "request_consent_bytes": run.request_consent_bytes,
        "loads": run.loads,
        "measurements": [{**asdict(m), "label": m.label} for m in run.measurements],
        "targets": [asdict(t) for t in found],
        "problems": run.problems,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
