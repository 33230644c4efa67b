"""The cost of integration coverage: RequestConsent (distinct phones) on a fresh sandbox that
counts, on one that does not (ETELECOM_SANDBOX_COVERAGE=false), and on one that counts again,
per store. The server's CPU per request is the figure (other processes on a shared machine do
not change it); the req/s are beside it."""

from __future__ import annotations

from pathlib import Path

from harness import servers
from harness.probe import measure
from harness.process import FAILURES
from options import Options
from results import Measurement, Run
from workloads import REQUEST_CONSENT_DISTINCT

RUNS: tuple[tuple[str, dict[str, str]], ...] = (
    ("counting", {}),
    ("not counting", {"ETELECOM_SANDBOX_COVERAGE": "false"}),
    ("counting, again", {}),
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
