"""Measure one endpoint of a running server: one checked request, a warm-up, the timed wrk run;
or of several servers side by side, in short runs taken in turn.

A failed check (not HTTP 200, or a list without the expected number of items) is a problem and
skips the load run: a figure for wrong answers would mean nothing.
"""

from __future__ import annotations

import json
import statistics
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from harness.noise import CpuSample, server_cpu
from harness.process import Server
from harness.wrk import WrkResult, run_wrk
from results import Measurement, Run
from workloads import API_KEY, Workload

WARM_UP_S = 1
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def measure(run: Run, m: Measurement, server: Server, workload: Workload) -> Measurement:
    """Check one request, then load the endpoint with wrk; `m` is filled in and kept in `run`."""
    measure_in_turn(run, [(m, server)], workload, 1)
    return m


@dataclass(frozen=True)
class _Window:
    """One timed wrk run against one server, with the CPU it and everything else used."""

    result: WrkResult
    server_cpu_s: float
    other_cpu: float | None


def measure_in_turn(
    run: Run, pairs: Sequence[tuple[Measurement, Server]], workload: Workload, windows: int
) -> None:
    """Several servers on one workload, side by side: each is checked and warmed up, then loaded
    in `windows` runs of `duration_s / windows` seconds each, taken in turn (the order reversed
    every other round), so that what comes and goes on a shared machine falls on all alike.
    Requests and server CPU are the windows' sums, req/s their 2xx answers over their seconds,
    p50 and p99 their medians, the mean latency weighted by requests, `other` their mean."""
    windows = max(1, windows)
    live: list[tuple[Measurement, Server]] = []
    for m, server in pairs:
        run.measurements.append(m)
        m.problem = check(m, server.url + workload.path, workload)
        if m.problem:
            run.problem(m.label, m.problem)
            continue
        run_wrk(server.url + workload.path, workload.script, WARM_UP_S, m.connections, m.threads)
        live.append((m, server))
    taken: dict[int, list[_Window]] = {id(m): [] for m, _ in live}
    for turn in range(windows):
        for m, server in live if turn % 2 == 0 else live[::-1]:
            seconds = max(1, m.duration_s // windows)
            taken[id(m)].append(_window(m, server, workload, seconds))
    for m, _ in live:
        _fill(m, taken[id(m)])


def _window(m: Measurement, server: Server, workload: Workload, seconds: int) -> _Window:
    workers = server.workers()
    helpers = [*server.helpers(), *workers]
    before = CpuSample.take(server.pid, helpers)
    server_before = server_cpu(server.pid, workers)
    result = run_wrk(server.url + workload.path, workload.script, seconds, m.connections, m.threads)
    used = server_cpu(server.pid, workers) - server_before
    after = sorted({*helpers, *server.helpers()})  # a backend may have started meanwhile
    return _Window(result, used, CpuSample.take(server.pid, after).others_since(before))


def _fill(m: Measurement, windows: list[_Window]) -> None:
    results = [w.result for w in windows]
    m.server_cpu_s = sum(w.server_cpu_s for w in windows)
    others = [w.other_cpu for w in windows if w.other_cpu is not None]
    m.other_cpu = statistics.fmean(others) if others else None
    m.requests = sum(r.requests for r in results)
    m.non_2xx = sum(r.non_2xx for r in results)
    m.socket_errors = sum(r.socket_errors for r in results)
    m.rps = (m.requests - m.non_2xx) / sum(r.seconds for r in results)
    m.p50_ms = statistics.median(r.p50_ms for r in results)
    m.mean_ms = sum(r.mean_ms * r.requests for r in results) / max(1, m.requests)
    m.p99_ms = statistics.median(r.p99_ms for r in results)
    if len(windows) > 1:
        m.notes.append(f"{len(windows)} windows taken in turn; p50 and p99 their medians")
    if m.non_2xx:
        m.notes.append(f"{m.non_2xx} of {m.requests} responses were not 2xx (not counted)")
    if m.socket_errors:
        m.notes.append(f"{m.socket_errors} socket errors/timeouts")
    print(
        f"  {m.label:<48} {m.rps:>9,.0f} req/s  p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms"
        + (f"  [{'; '.join(m.notes)}]" if m.notes else ""),
        flush=True,
    )


def check(m: Measurement, url: str, workload: Workload) -> str:
    """Send the workload's request once; what is wrong with the answer, or ""."""
    status, body = post(url, workload.body)
    m.check_status, m.check_bytes = status, len(body)
    if status != 200:
        return f"check request answered HTTP {status}: {body[:200].decode(errors='replace')}"
    if not workload.is_list:
        return ""
    try:
        m.check_items = len(json.loads(body)["consents"])
    except (ValueError, KeyError, TypeError):
        return f"the list response has no consents array: {body[:200]!r}"
    if m.expected_items is not None and m.check_items != m.expected_items:
        return f"the list returned {m.check_items} items, not {m.expected_items}"
    return ""


def post(url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    """A JSON POST with the demo shop's key; status 0 and the error when nothing answered."""
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


def measure_together(
    run: Run, m: Measurement, servers: Sequence[Server], workload: Workload
) -> Measurement:
    """Load several servers at once, `m.connections` split between them (one wrk each, run in
    parallel): req/s is their sum, the latencies the worst of them."""
    run.measurements.append(m)
    for server in servers:
        m.problem = check(m, server.url + workload.path, workload)
        if m.problem:
            run.problem(m.label, m.problem)
            return m
    share = max(1, m.connections // len(servers))

    def load(seconds: int) -> list[WrkResult]:
        with ThreadPoolExecutor(len(servers)) as pool:
            return list(
                pool.map(
                    lambda s: run_wrk(s.url + workload.path, workload.script, seconds, share, 1),
                    servers,
                )
            )

    load(WARM_UP_S)
    helpers = sorted({pid for s in servers for pid in (s.pid, *s.helpers())})
    before = CpuSample.take(None, helpers)
    results = load(m.duration_s)
    after = sorted({*helpers, *(pid for s in servers for pid in s.helpers())})
    m.other_cpu = CpuSample.take(None, after).others_since(before)
    m.requests = sum(r.requests for r in results)
    m.non_2xx = sum(r.non_2xx for r in results)
    m.socket_errors = sum(r.socket_errors for r in results)
    m.rps = sum((r.requests - r.non_2xx) / r.seconds for r in results)
    m.p50_ms = max(r.p50_ms for r in results)
    m.mean_ms = max(r.mean_ms for r in results)
    m.p99_ms = max(r.p99_ms for r in results)
    m.notes.append(f"{len(servers)} wrk runs of {share} connections at once; worst latency")
    if m.non_2xx:
        m.notes.append(f"{m.non_2xx} of {m.requests} responses were not 2xx (not counted)")
    if m.socket_errors:
        m.notes.append(f"{m.socket_errors} socket errors/timeouts")
    print(
        f"  {m.label:<48} {m.rps:>9,.0f} req/s  p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms",
        flush=True,
    )
    return m
