"""The drift report as Markdown (to read) and JSON (to diff or feed elsewhere)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from contract_tests.drift import KINDS, DriftReport
from contract_tests.redact import Redactor

MARKDOWN = "drift.md"
JSON = "drift.json"


def write_report(report: DriftReport, out: Path, redactor: Redactor) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "target": report.target,
        "probes": report.probes,
        "summary": summary(report),
        "drift": [asdict(d) for d in report.drifts],
        "errors": report.errors,
    }
    paths = [out / MARKDOWN, out / JSON]
    paths[0].write_text(redactor.scrub(markdown(report)), encoding="utf-8")
    paths[1].write_text(redactor.scrub(json.dumps(data, indent=2)) + "\n", encoding="utf-8")
    return paths


def summary(report: DriftReport) -> dict[str, int]:
    """How many distinct drifts of each kind (each may have been seen many times)."""
    return {kind: sum(1 for d in report.drifts if d.kind == kind) for kind in KINDS}


def markdown(report: DriftReport) -> str:
    lines = [
        "# Drift report",
        "",
        f"Target: {report.target}. {report.probes} read-only requests, each answer read "
        "against `openapi/etelecom-zalo-consent.yaml`.",
        "",
    ]
    if not report.drifts:
        lines += ["No drift: every answer is what the spec describes.", ""]
    for kind in KINDS:
        found = [d for d in report.drifts if d.kind == kind]
        lines += [f"## {kind[0].upper()}{kind[1:]} ({len(found)})", ""]
        if not found:
            lines += ["None.", ""]
            continue
        lines += ["| Operation | Where | What | Seen | First seen with |", "|---|---|---|---|---|"]
        for d in found:
            cells = [
                d.operation,
                f"`{d.where}`",
                d.detail,
                "once" if d.count == 1 else f"{d.count} times",
                d.probe,
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    if report.errors:
        lines += (
            ["## Requests without an answer, and early stops", ""]
            + [f"- {e}" for e in report.errors]
            + [""]
        )
    return "\n".join(lines)
