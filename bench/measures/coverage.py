"""The cost of integration coverage: RequestConsent (distinct phones) on five fresh sandboxes in
turn, which count, do not (ETELECOM_SANDBOX_COVERAGE=false), count, do not, count, per store.
The server's CPU per request is the figure (other processes on a shared machine change it less
than req/s); the req/s are beside it. Then what counting adds to a wire request, timed
in-process (the edge's work per request, with counting on and off): a figure the noise of a
shared machine cannot hide in."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import servers
from harness.probe import measure
from harness.process import FAILURES
from options import Options
from results import Measurement, Run
from workloads import REQUEST_CONSENT_DISTINCT

CALLS = 200_000  # timed calls per side of the in-process figure
COUNTING, NOT_COUNTING = "counting", "not counting"
# Alternating, and the report compares medians: fresh sandboxes differ among themselves by more
# than the 3 % this tells (counting cannot be switched on a running sandbox).
RUNS: tuple[tuple[str, dict[str, str]], ...] = tuple(
    (f"{NOT_COUNTING} {n}", {"ETELECOM_SANDBOX_COVERAGE": "false"})
    if n % 2 == 0
    else (f"{COUNTING} {n}", {})
    for n in range(1, 6)
)


def cost(run: Run, opts: Options, tmp: Path) -> None:
    print("\n[coverage-cost] RequestConsent with and without coverage counting")
    for store in servers.STORES:
        for label, env in RUNS:
            m = Measurement(
                section="coverage",
                server="sandbox",
                store=store,
                operation="RequestConsent",
                query=f"distinct phones, {label}",
                stored=0,
                connections=opts.connections,
                threads=opts.threads,
                duration_s=opts.duration,
            )
            try:
                with servers.served(store, tmp, env) as server:
                    measure(run, m, server, REQUEST_CONSENT_DISTINCT)
            except FAILURES as exc:
                run.problem(f"coverage-cost sandbox/{store} {label}", exc)
    run.counting_us = counting_us()
    print(f"  counting's own work per wire request, in-process: {run.counting_us:.2f} us")


def counting_us() -> float:
    """What a wire request's counting costs (µs): the edge's work once its key is read, on a
    counting tally minus on one that counts nothing, over CALLS requests each."""
    from mock_server.domain.coverage import Tally
    from mock_server.http.coverage import WireCoverage

    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": []}
    scope["path"] = "/v1/shop.Zalo/RequestConsent"

    def timed(enabled: bool) -> float:
        tally = Tally(enabled)
        coverage = WireCoverage(tally, None, lambda: 0, frozenset())  # type: ignore[arg-type]
        started = time.process_time()
        for _ in range(CALLS):
            coverage.arrived(dict(scope), "RequestConsent", 1)
        return time.process_time() - started

    timed(True)  # warm up
    return max(0.0, (timed(True) - timed(False)) / CALLS * 1e6)
