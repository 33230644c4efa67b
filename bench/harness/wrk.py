"""Run wrk with one of bench/*.lua and read the BENCH_JSON line its done() prints (common.lua)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from dataclasses import dataclass

from harness.process import BENCH
from workloads import API_KEY

TIMEOUT_S = 10  # per request: a slower answer counts as a timeout, not a latency
_RUNS = itertools.count()


@dataclass(frozen=True)
class WrkResult:
    seconds: float
    requests: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses": answered, but not a success
    socket_errors: int  # connect, read and write errors and timeouts
    p50_ms: float
    mean_ms: float
    p99_ms: float


def run_wrk(url: str, script: str, duration: int, connections: int, threads: int) -> WrkResult:
    """One closed-loop wrk run of `duration` seconds; RuntimeError when it gives no result."""
    env = {
        **os.environ,
        # Scripts that make up bodies tell runs and threads apart with these.
        "BENCH_RUN": str(next(_RUNS)),
        "BENCH_THREADS": str(threads),
        "BENCH_API_KEY": API_KEY,
    }
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
    argv += ["--timeout", f"{TIMEOUT_S}s", "-s", script, url]
    done = subprocess.run(
        argv,
        cwd=BENCH,  # common.lua is found by require() from here
        env=env,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    result = parse(done.stdout)
    if result is None:
        raise RuntimeError(f"wrk gave no result (exit {done.returncode}): {done.stderr.strip()}")
    return result


def parse(stdout: str) -> WrkResult | None:
    """The figures from wrk's output, or None when the BENCH_JSON line is missing."""
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line.removeprefix("BENCH_JSON "))
            errors, latency = raw["errors"], raw["latency_us"]
            return WrkResult(
                seconds=raw["duration_us"] / 1e6,
                requests=int(raw["requests"]),
                non_2xx=int(errors["status"]),
                socket_errors=sum(int(errors[k]) for k in ("connect", "read", "write", "timeout")),
                p50_ms=latency["p50"] / 1000,
                mean_ms=latency["mean"] / 1000,
                p99_ms=latency["p99"] / 1000,
            )
    return None
