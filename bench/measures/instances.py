"""Two sandbox instances on one PostgreSQL database, loaded at once: a team's set-up behind a
load balancer, on this machine. Compare with one instance (the throughput figure's PostgreSQL
rows, same consents stored and the same connections in all)."""

from __future__ import annotations

from pathlib import Path

import dataset
from harness import postgres, servers
from harness.probe import measure_together
from harness.process import FAILURES
from measures.wrk_runs import THROUGHPUT_STORED
from options import Options
from results import Measurement, Run
from workloads import LIST_BY_PHONE, REQUEST_CONSENT_DISTINCT

INSTANCES = 2


def instances(run: Run, opts: Options, tmp: Path) -> None:
    stored = THROUGHPUT_STORED
    print(
        f"\n[instances] {INSTANCES} sandboxes on one PostgreSQL database, {stored:,} consents, "
        f"{opts.connections} connections in all"
    )
    try:
        with (
            postgres.schema(tmp) as url,
            servers.instances(url, INSTANCES, stored, tmp, run.starts) as started,
        ):
            for workload in (LIST_BY_PHONE, REQUEST_CONSENT_DISTINCT):
                m = Measurement(
                    section="instances",
                    server=f"{INSTANCES} instances",
                    store="postgresql",
                    operation=workload.operation,
                    query=workload.query,
                    stored=stored,
                    connections=opts.connections,
                    threads=1,
                    duration_s=opts.duration,
                    expected_items=(
                        dataset.expected_items(stored, workload.query) if workload.is_list else None
                    ),
                )
                measure_together(run, m, started, workload)
    except FAILURES as exc:
        run.problem(f"{INSTANCES} instances/postgresql", exc)
