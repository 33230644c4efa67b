"""Load benchmark: the sandbox (SQLite, memory and PostgreSQL stores) beside a Starlette ceiling
and Prism, two sandbox instances on one PostgreSQL database, `serve --workers 2`, start-up and
the contract kit over HTTP, each held to its target.

    python bench/run.py [--duration 10] [--connections 32] [--quick] [--only FIGURE]

Needs wrk (`apt-get install wrk`) and, for the Prism figures, `npm ci --prefix bench`. Every server
is a subprocess on 127.0.0.1, port 0, awaited on its readiness line and stopped at the end; every
load run has a fixed duration. The tables go to stdout, the figures to bench/results/latest.json.
See bench/README.md for what each figure means and how this directory is organised.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import options
from harness import machine, postgres
from measures import (
    coverage,
    datasets,
    faults,
    hostile,
    inspector,
    instances,
    kit,
    soak,
    startup,
    wrk_runs,
)
from report import save, tables
from report.targets import targets
from results import Run

Measure = Callable[[Run, options.Options, Path], None]
MEASURES: dict[str, Measure] = {
    "throughput": wrk_runs.throughput,
    "ceiling": wrk_runs.ceiling,
    "prism": wrk_runs.prism,
    "scaling": wrk_runs.scaling,
    "instances": instances.instances,
    "workers": wrk_runs.workers,
    "startup": startup.startup,
    "kit": kit.kit,
    "dataset-load": datasets.dataset_load,
    "fixtures-generate": datasets.fixtures_generate,
    "fault-delays": faults.fault_delays,
    "inspector-cost": inspector.cost,
    "inspector-render": inspector.render,
    "coverage-cost": coverage.cost,
    "hostile": hostile.hostile,
    "soak": soak.soak,
}


def main(argv: list[str] | None = None) -> int:
    opts = options.parse(argv, (__doc__ or "").split("\n\n")[0])
    if opts.needs_wrk and shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"etelecom-sandbox bench: code {machine.code_version()}, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    args = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}
    run = Run(args)
    with tempfile.TemporaryDirectory(prefix="etelecom-bench-") as tmp:
        try:
            for name in opts.figures:
                MEASURES[name](run, opts, Path(tmp))
        finally:
            postgres.stop(Path(tmp))  # the PostgreSQL figures' cluster, if they started it
    found = targets(run, opts.large)
    tables.print_report(run, found, opts)
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.0f} s in all; results in {opts.output}")
    save.write(opts.output, run, found, elapsed)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
