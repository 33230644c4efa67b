"""The JSON results file: every figure, the targets, the machine and the commit."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import machine
from results import Run, Target


def write(path: Path, run: Run, found: list[Target], elapsed_s: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document(run, found, elapsed_s), indent=2) + "\n")


def document(run: Run, found: list[Target], elapsed_s: float) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed_s, 1),
        "machine": machine.describe(),
        "code": machine.code_version(),
        "args": run.args,
        "scaling_latency_metric": "p50 of a 1-connection, 1-thread wrk run",
        "request_consent_bytes": run.request_consent_bytes,
        # How long each sandbox took to hold its consents before its figures were taken.
        "loads": [asdict(start) for start in run.starts],
        "measurements": [{**asdict(m), "label": m.label} for m in run.measurements],
        "dataset_loads": [
            {**asdict(d), "total_s": round(d.total_s, 3), "consents_per_s": round(d.per_second)}
            for d in run.dataset_loads
        ],
        "fixtures_generate": [
            {**asdict(g), "consents_per_s": round(g.per_second)} for g in run.generations
        ],
        "fault_delays": [asdict(d) for d in run.delays],
        "hostile": [{**asdict(h), "five_xx": h.five_xx} for h in run.hostile],
        "soak": [
            {
                **asdict(s),
                "requests_total": s.total,
                "rps": round(s.rps, 1),
                "rss_kb_at_20pct": s.rss_at(0.2),
                "rss_kb_at_end": s.rss_at(1.0),
                "rss_growth_pct": None if s.growth_pct is None else round(s.growth_pct, 2),
            }
            for s in run.soaks
        ],
        "startup": [
            {**asdict(s), "median_s": s.median_s, "min_s": s.min_s, "median_cpu_s": s.median_cpu_s}
            for s in run.startups
        ],
        "kit": [{**asdict(k), "rest_s": round(k.rest_s, 2)} for k in run.kits],
        "targets": [asdict(t) for t in found],
        "problems": run.problems,
    }
