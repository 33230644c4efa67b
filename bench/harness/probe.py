"""Measure one endpoint of a running server: one checked request, a warm-up, the timed wrk run.

A failed check (not HTTP 200, or a list without the expected number of items) is a problem and
skips the load run: a figure for wrong answers would mean nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
    run.measurements.append(m)
    url = server.url + workload.path
    m.problem = check(m, url, workload)
    if m.problem:
        run.problem(m.label, m.problem)
        return m
    run_wrk(url, workload.script, WARM_UP_S, m.connections, m.threads)
    workers = server.workers()
    helpers = [*server.helpers(), *workers]
    before = CpuSample.take(server.pid, helpers)
    server_before = server_cpu(server.pid, workers)
    result = run_wrk(url, workload.script, m.duration_s, m.connections, m.threads)
    m.server_cpu_s = server_cpu(server.pid, workers) - server_before
    after = sorted({*helpers, *server.helpers()})  # a backend may have started meanwhile
    m.other_cpu = CpuSample.take(server.pid, after).others_since(before)
    m.requests, m.non_2xx, m.socket_errors = result.requests, result.non_2xx, result.socket_errors
    m.rps = (result.requests - result.non_2xx) / result.seconds
    m.p50_ms, m.mean_ms, m.p99_ms = result.p50_ms, result.mean_ms, result.p99_ms
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
