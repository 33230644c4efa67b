"""The fault-delays figure: what delays `fixed`, `uniform` and `lognormal` fault rules give,
against what their settings say (p50 and p99).

One sandbox (the CLI, memory store); for each setting a global rule on ListOA, then N requests
from a pool of concurrent clients. Three views of each distribution: the setting's own
percentiles, the delays the sandbox drew (the journal's `fault.delay_ms`: the sampler alone), and
the latency the clients measured (the draw plus HTTP, the edge and queueing). A baseline without
a rule gives the cost of the request itself.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import httpx

from harness import servers
from harness.noise import CpuSample
from harness.process import FAILURES, running
from mock_server.settings import Settings
from options import Options
from results import DelayFigure, Run

CONCURRENCY = 5
DEMO = Settings()
# (label, the rule's delay, its p50 and p99 in ms as the setting defines them)
SETTINGS: tuple[tuple[str, dict[str, Any] | None, float, float], ...] = (
    ("none (baseline)", None, 0.0, 0.0),
    ("fixed 50ms", {"fixed": "50ms"}, 50.0, 50.0),
    ("uniform 20ms-80ms", {"uniform": {"min": "20ms", "max": "80ms"}}, 50.0, 20 + 0.99 * 60),
    (
        "lognormal median 30ms, p99 200ms",
        {"lognormal": {"median": "30ms", "p99": "200ms"}},
        30.0,
        200.0,
    ),
)


def fault_delays(run: Run, opts: Options, tmp: Path) -> None:
    requests = 300 if opts.quick else 1000  # the journal keeps the last 1,000: all of them
    print(f"\n[fault-delays] {requests} ListOA per setting, {CONCURRENCY} at a time")
    argv = [*servers.sandbox_cli(), "serve", "--port", "0", "--store", "memory"]
    try:
        with running("sandbox-fault-delays", [*argv, "--clock-rate", "0"], tmp) as server:
            for label, delay, p50, p99 in SETTINGS:
                before = CpuSample.take(server.pid)
                figure = asyncio.run(_measure(server.url, label, delay, requests))
                figure.expected_p50_ms, figure.expected_p99_ms = p50, p99
                figure.other_cpu = CpuSample.take(server.pid).others_since(before)
                run.delays.append(figure)
                print(
                    f"  {label:<34} drawn p50 {figure.drawn_p50_ms:7.1f} p99 "
                    f"{figure.drawn_p99_ms:7.1f}  measured p50 {figure.measured_p50_ms:7.1f} "
                    f"p99 {figure.measured_p99_ms:7.1f} ms",
                    flush=True,
                )
    except (*FAILURES, httpx.HTTPError, AssertionError) as exc:
        run.problem("fault-delays", exc)


async def _measure(
    url: str, label: str, delay: dict[str, Any] | None, requests: int
) -> DelayFigure:
    auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        rule = {"match": {"operation": "ListOA"}, "action": {"delay": delay}}
        rules = [] if delay is None else [rule]
        (await http.put("/_sandbox/faults", json={"faults": rules})).raise_for_status()
        queue = list(range(requests))
        latencies: list[float] = []

        async def worker() -> None:
            while queue:
                queue.pop()
                started = time.perf_counter()
                answer = await http.post("/v1/shop.Zalo/ListOA", json={}, headers=auth)
                latencies.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        journal = await http.get("/_sandbox/journal", params={"path": "ListOA", "limit": requests})
        drawn = [e["fault"]["delay_ms"] for e in journal.json()["requests"] if e.get("fault")]
    assert delay is None or len(drawn) == requests, f"{len(drawn)} delays in the journal"
    return DelayFigure(
        setting=label,
        requests=requests,
        concurrency=CONCURRENCY,
        drawn_p50_ms=_percentile(drawn, 0.5),
        drawn_p99_ms=_percentile(drawn, 0.99),
        measured_p50_ms=_percentile(latencies, 0.5),
        measured_p99_ms=_percentile(latencies, 0.99),
    )


def _percentile(values: list[float] | list[int], q: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])
