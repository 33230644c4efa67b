"""The inspector's figures: what ten open pages cost RequestConsent (the same load with no
page open, with ten, and with none again, on one server), and how long the first 100 rows of a
shop with 100,000 consents take to render."""

from __future__ import annotations

import statistics
import sys
import time
import urllib.request
from pathlib import Path

from harness import servers
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
VIEW = f"/_sandbox/ui/shops/{Settings().demo_shop_id}/consents"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def cost(run: Run, opts: Options, tmp: Path) -> None:
    print(f"\n[inspector-cost] RequestConsent with 0, {PAGES} and 0 inspector pages open")
    for store in servers.STORES:
        try:
            with servers.sandbox(store, COST_STORED, tmp, run.starts) as server:
                for pages, label in (
                    (0, "no page"),
                    (PAGES, f"{PAGES} pages"),
                    (0, "no page, again"),
                ):
                    m = Measurement(
                        section="inspector",
                        server="sandbox",
                        store=store,
                        operation="RequestConsent",
                        query=f"distinct phones, {label}",
                        stored=COST_STORED,
                        connections=opts.connections,
                        threads=opts.threads,
                        duration_s=opts.duration,
                    )
                    if not pages:
                        measure(run, m, server, REQUEST_CONSENT_DISTINCT)
                        continue
                    argv = [
                        sys.executable,
                        str(BENCH / "pages.py"),
                        "--url",
                        server.url,
                        "--pages",
                        str(pages),
                        "--view",
                        VIEW,
                    ]
                    with running(f"pages-{store}", argv, tmp):
                        measure(run, m, server, REQUEST_CONSENT_DISTINCT)
        except FAILURES as exc:
            run.problem(f"inspector-cost sandbox/{store}", exc)


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
