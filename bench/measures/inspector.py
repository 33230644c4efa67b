"""The inspector's figures: what ten open pages cost RequestConsent (on one sandbox per store, its
clock frozen, the same load in windows with no page open and with ten, in turn), the pages' own
server CPU under a light, steady stream of changes, and how long the first 100 rows of a shop
with 100,000 consents take to render."""

from __future__ import annotations

import statistics
import sys
import time
import urllib.request
from pathlib import Path

from harness import servers
from harness.noise import CpuSample, process_cpu
from harness.probe import measure
from harness.process import BENCH, FAILURES, running
from mock_server.settings import Settings
from options import Options
from results import Measurement, Run
from workloads import REQUEST_CONSENT_DISTINCT

PAGES = 10
COST_STORED = 10_000
RENDER_STORED = 100_000
RENDERS = 20  # timed requests, after one untimed
STEADY_S = 4.0  # the light-load windows: this long each
CHANGES_PER_S = 20  # journaled requests a second (health reads: no work of their own), so
# every push tick has a change to push
VIEW = f"/_sandbox/ui/shops/{Settings().demo_shop_id}/consents"
FROZEN = {"ETELECOM_SANDBOX_CLOCK_RATE": "0"}
NO_PAGE, WITH_PAGES = "no page", f"{PAGES} pages"
COST_RUNS = 9  # windows on one sandbox, alternating, from and to one with no page
WINDOW_S = 5  # seconds per window at most (--duration when shorter)
RUNS = [
    (0, f"{NO_PAGE} {n}") if n % 2 else (PAGES, f"{WITH_PAGES} {n}")
    for n in range(1, COST_RUNS + 1)
]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def cost(run: Run, opts: Options, tmp: Path) -> None:
    print(f"\n[inspector-cost] RequestConsent with 0 and {PAGES} inspector pages open, in turn")
    window_s = min(opts.duration, WINDOW_S)
    for store in servers.STORES:
        try:
            # One sandbox per store, its clock frozen: on a running clock, RequestConsent gets
            # dearer through a run as its customers' replies fall due. Windows with pages and
            # without alternate on it and the report compares their medians: what drifts
            # through the run (the store grows by tens of thousands of consents) or comes and
            # goes on this shared machine falls on both alike. Fresh sandboxes per run differed
            # by more than 5 % among themselves.
            with servers.sandbox(store, COST_STORED, tmp, run.starts, env=FROZEN) as server:
                for pages, label in RUNS:
                    m = Measurement(
                        section="inspector",
                        server="sandbox",
                        store=store,
                        operation="RequestConsent",
                        query=f"distinct phones, {label}",
                        stored=COST_STORED,
                        connections=opts.connections,
                        threads=opts.threads,
                        duration_s=window_s,
                    )
                    if not pages:
                        measure(run, m, server, REQUEST_CONSENT_DISTINCT)
                        continue
                    with running(f"pages-{store}-{label}", argv_for(server.url), tmp):
                        measure(run, m, server, REQUEST_CONSENT_DISTINCT)
            with servers.sandbox(store, COST_STORED, tmp, run.starts) as server:
                for pages in (0, PAGES):
                    _steady(run, store, server.url, server.pid, pages, argv_for(server.url), tmp)
        except FAILURES as exc:
            run.problem(f"inspector-cost sandbox/{store}", exc)


def argv_for(url: str) -> list[str]:
    return [
        sys.executable,
        str(BENCH / "pages.py"),
        "--url",
        url,
        "--pages",
        str(PAGES),
        "--view",
        VIEW,
    ]


def _steady(
    run: Run, store: str, url: str, pid: int, pages: int, argv: list[str], tmp: Path
) -> None:
    """The server's CPU over a few seconds of CHANGES_PER_S cheap requests, with `pages` open."""
    m = Measurement(
        section="inspector",
        server="sandbox",
        store=store,
        operation="server CPU",
        query=f"{CHANGES_PER_S} changes/s, {pages} pages",
        stored=COST_STORED,
        connections=1,
        threads=1,
        duration_s=int(STEADY_S),
    )
    run.measurements.append(m)

    def window() -> None:
        before, started = CpuSample.take(pid), time.monotonic()
        cpu = process_cpu(pid)
        while (elapsed := time.monotonic() - started) < STEADY_S:
            with _OPENER.open(url + "/_sandbox/health", timeout=30):
                m.requests += 1
            time.sleep(max(0.0, m.requests / CHANGES_PER_S - elapsed))  # bench, not a test
        m.server_cpu_s = process_cpu(pid) - cpu
        m.other_cpu = CpuSample.take(pid).others_since(before)

    if pages:
        with running(f"pages-steady-{store}", argv, tmp):
            window()
    else:
        window()
    per_s = (m.server_cpu_s or 0) / STEADY_S * 1000
    m.notes.append(f"server CPU {per_s:.1f} ms per second")
    print(f"  {m.label:<48} server CPU {per_s:7.1f} ms/s", flush=True)


def render(run: Run, opts: Options, tmp: Path) -> None:
    print(f"\n[inspector-render] the consents view, first 100 rows of {RENDER_STORED:,} stored")
    for store in servers.STORES:
        try:
            with servers.sandbox(store, RENDER_STORED, tmp, run.starts) as server:
                m = Measurement(
                    section="inspector",
                    server="sandbox",
                    store=store,
                    operation="inspector consents page",
                    query="first 100 rows, HTML",
                    stored=RENDER_STORED,
                    connections=1,
                    threads=1,
                    duration_s=0,
                )
                run.measurements.append(m)
                times = []
                for n in range(RENDERS + 1):
                    started = time.perf_counter()
                    with _OPENER.open(server.url + VIEW, timeout=30) as response:
                        body = response.read()
                        status = response.status
                    if n:
                        times.append((time.perf_counter() - started) * 1000)
                rows = body.count(b"data-consent-id=")
                m.check_status, m.check_bytes, m.check_items = status, len(body), rows
                if status != 200 or rows != 100:
                    m.problem = f"HTTP {status}, {rows} rows"
                    run.problem(m.label, m.problem)
                    continue
                m.requests = RENDERS
                m.p50_ms = statistics.median(times)
                m.mean_ms = statistics.fmean(times)
                m.p99_ms = max(times)
                m.notes.append(f"{RENDERS} requests one after another; p99 is the slowest")
                print(f"  {m.label:<48} p50 {m.p50_ms:7.2f} ms  max {m.p99_ms:7.2f} ms", flush=True)
        except FAILURES as exc:
            run.problem(f"inspector-render sandbox/{store}", exc)
