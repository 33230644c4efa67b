"""The figures wrk takes: the sandbox's throughput, the Starlette ceiling, Prism, and how list
latency scales with the number of consents stored."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dataset
from harness import servers
from harness.probe import measure, measure_in_turn
from harness.process import FAILURES, ROOT, running
from options import Options
from results import Measurement, Run
from workloads import (
    LIST_BY_PHONE,
    LIST_QUERIES,
    REQUEST_CONSENT,
    REQUEST_CONSENT_DISTINCT,
    Workload,
)

THROUGHPUT_STORED = 10_000
# A sandbox that keeps no list answer (http/list_answers.py): every list reads the store. The
# scaling figure runs on it, as does the throughput figure's row "sandbox, nothing kept".
NOTHING_KEPT = {"ETELECOM_SANDBOX_LIST_CACHE_MB": "0"}
SCALING_SMALL = 1_000
SCALING_WINDOWS = 5  # per size and query, in turn: --duration seconds split among them
WORKERS = 2  # `serve --workers N`, SQLite (the memory store refuses workers)


def throughput(run: Run, opts: Options, tmp: Path) -> None:
    """The sandbox on each store with 10,000 consents: its list, and RequestConsent for one
    phone and for distinct phones, at `--connections`. The list is asked again and again, as
    a client polls: answered from what the sandbox keeps (but on PostgreSQL, which keeps none);
    a second sandbox keeping nothing gives the list as a first asking costs."""
    stored = THROUGHPUT_STORED
    print(f"\n[throughput] sandbox, {stored:,} consents stored, {opts.connections} connections")
    for store in servers.STORES:
        try:
            with servers.sandbox(store, stored, tmp, run.starts) as server:
                for workload in (LIST_BY_PHONE, REQUEST_CONSENT, REQUEST_CONSENT_DISTINCT):
                    m = _planned("throughput", "sandbox", store, workload, opts, stored)
                    measure(run, m, server, workload)
                    if workload is REQUEST_CONSENT and m.check_status == 200:
                        run.request_consent_bytes = run.request_consent_bytes or m.check_bytes
        except FAILURES as exc:
            run.problem(f"sandbox/{store}", exc)
    for store in servers.STORES[:2]:  # PostgreSQL's row above keeps nothing already
        name = "sandbox, nothing kept"
        try:
            with servers.sandbox(store, stored, tmp, run.starts, env=NOTHING_KEPT) as server:
                m = _planned("throughput", name, store, LIST_BY_PHONE, opts, stored)
                measure(run, m, server, LIST_BY_PHONE)
        except FAILURES as exc:
            run.problem(f"{name}/{store}", exc)


def workers(run: Run, opts: Options, tmp: Path) -> None:
    """`serve --workers 2` on a SQLite file with 10,000 consents: its list and RequestConsent
    (distinct phones), at `--connections`. Its own rows: several processes are not held to the
    single-process ceiling."""
    stored, store = THROUGHPUT_STORED, "sqlite"
    print(f"\n[workers] serve --workers {WORKERS}, {store}, {stored:,} consents stored")
    try:
        with servers.sandbox(store, stored, tmp, run.starts, workers=WORKERS) as server:
            for workload in (LIST_BY_PHONE, REQUEST_CONSENT_DISTINCT):
                m = _planned("workers", f"{WORKERS} workers", store, workload, opts, stored)
                measure(run, m, server, workload)
    except FAILURES as exc:
        run.problem(f"{WORKERS} workers/{store}", exc)


def ceiling(run: Run, opts: Options, tmp: Path) -> None:
    """A bare Starlette app answering RequestConsent with a constant body of the size the
    sandbox's answer had: what the sandbox cannot beat on this machine."""
    size = run.request_consent_bytes
    print(f"\n[ceiling] bare Starlette, constant {size}-byte body")
    if size is None:
        run.problem("ceiling", "skipped: no RequestConsent response to take the body size from")
        return
    try:
        with running("ceiling", servers.ceiling(size), tmp) as server:
            m = _planned("ceiling", "ceiling", "", REQUEST_CONSENT, opts)
            measure(run, m, server, REQUEST_CONSENT)
            if m.check_bytes != size:
                m.notes.append(f"body is {m.check_bytes} bytes, not {size}")
    except FAILURES as exc:
        run.problem("ceiling", exc)


def prism(run: Run, opts: Options, tmp: Path) -> None:
    """Prism, the reference mock, on the list and on RequestConsent."""
    print(f"\n[prism] Prism mocking {servers.SPEC.relative_to(ROOT)}")
    argv = servers.prism()
    if argv is None:
        run.problem("prism", "skipped: not installed (run `npm ci --prefix bench`)")
        return
    try:
        with running("prism", argv, tmp) as server:
            for workload in (LIST_BY_PHONE, REQUEST_CONSENT):
                m = _planned("prism", "prism", "", workload, opts)
                measure(run, m, server, workload)
                if workload.is_list and m.check_items is not None:
                    m.notes.insert(0, f"static example: {m.check_items} item(s), no paging")
    except FAILURES as exc:
        run.problem("prism", exc)


def scaling(run: Run, opts: Options, tmp: Path) -> None:
    """List latency (1 connection, 1 thread) at 1,000 and at `large` consents stored, for the
    unfiltered first page, one phone's first page and the agreed consents' first page
    (reply_status), on each store: each list read from the store (nothing kept). Both sizes are
    served at once and measured in turn, window by window: a ratio of two runs taken minutes
    apart would be the machine's drift as much as the store's."""
    sizes = (SCALING_SMALL, opts.large)
    print(f"\n[scaling] list latency at {sizes[0]:,} vs {sizes[1]:,} stored, 1 connection")
    for store in servers.STORES:
        try:
            with contextlib.ExitStack() as both:
                served = [
                    both.enter_context(
                        servers.sandbox(store, stored, tmp, run.starts, env=NOTHING_KEPT)
                    )
                    for stored in sizes
                ]
                for workload in LIST_QUERIES:
                    pairs = [
                        (_planned("scaling", "sandbox", store, workload, opts, stored, 1), server)
                        for stored, server in zip(sizes, served, strict=True)
                    ]
                    measure_in_turn(run, pairs, workload, SCALING_WINDOWS)
        except FAILURES as exc:
            run.problem(f"scaling sandbox/{store}", exc)


def _planned(
    section: str,
    server: str,
    store: str,
    workload: Workload,
    opts: Options,
    stored: int | None = None,
    connections: int | None = None,
) -> Measurement:
    """The measurement about to be taken; lists on the sandbox know how many items to expect.
    One connection (and one wrk thread) measures latency rather than queueing."""
    expected = None
    if server not in ("ceiling", "prism") and workload.is_list and stored is not None:
        expected = dataset.expected_items(stored, workload.query)
    return Measurement(
        section=section,
        server=server,
        store=store,
        operation=workload.operation,
        query=workload.query,
        stored=stored,
        connections=connections or opts.connections,
        threads=1 if connections == 1 else opts.threads,
        duration_s=opts.duration,
        expected_items=expected,
    )
