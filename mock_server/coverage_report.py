"""Coverage reports as GET /_sandbox/coverage answers them: merged (several shops, several
pytest workers) and written out as a summary, a table or Markdown. Plain data in, text out:
the pytest plugin and the CLI share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Report = dict[str, Any]
GROUP_TITLES = {
    "consent": "Consent outcomes",
    "check": "CheckConsent codes",
    "webhook": "Webhook events",
    "twirp": "Twirp errors",
    "fault": "Faults",
    "paging": "Paging",
}


def merge(reports: Iterable[Report]) -> Report:
    """Several reports as one: an item is reached when any report reached it; counts add up;
    the first example stays. A misuse keeps the tests (`tests`) of every report that had it."""
    shops: list[str] = []
    items: dict[str, dict[str, Any]] = {}
    misuse: dict[str, dict[str, Any]] = {}
    for report in reports:
        shops += report.get("shops", [])  # workers' sandboxes may reuse ids: each is a shop
        for item in report["items"]:
            kept = items.setdefault(item["id"], {**item, "count": 0, "example": None})
            kept["count"] += item["count"]
            kept["reached"] = kept["count"] > 0
            kept["example"] = kept["example"] or item["example"]
        for found in report["misuse"]:
            kept = misuse.setdefault(found["rule"], {**found, "count": 0, "tests": []})
            kept["count"] += found["count"]
            kept["tests"] += [t for t in found.get("tests", []) if t not in kept["tests"]]
    reached = sum(1 for item in items.values() if item["reached"])
    total = len(items)
    return {
        "shops": shops,
        "reached": reached,
        "total": total,
        "percent": round(100 * reached / total, 1) if total else 0.0,
        "items": list(items.values()),
        "misuse": list(misuse.values()),
    }


def never(report: Report) -> list[str]:
    return [item["label"] for item in report["items"] if not item["reached"]]


def headline(report: Report) -> str:
    shops = len(report["shops"])
    return (
        f"reached {report['reached']} of {report['total']} outcomes ({report['percent']:g} %) "
        f"over {shops} shop{'s' if shops != 1 else ''}"
    )


def summary(report: Report) -> list[str]:
    """A few lines: what was reached, what never was, and each misuse with its tests."""
    missed = never(report)
    lines = [headline(report) + (f"; never: {', '.join(missed)}" if missed else "")]
    for found in report["misuse"]:
        where = ", ".join(found.get("tests", [])) or example_text(found["example"])
        lines.append(f"misuse {found['rule']} ({found['count']}): {found['why']}; in {where}")
    return lines


def example_text(example: dict[str, Any] | None) -> str:
    if not example:
        return ""
    if "consent_id" in example:
        return f"consent {example['consent_id']}"
    if "journal_seq" in example:
        return f"journal #{example['journal_seq']} (worker {example.get('worker', '?')})"
    return str(example.get("path", ""))


def table(report: Report, markdown: bool = False) -> str:
    """Every item by group: reached or not, how often, an example; then the misuse found."""
    rows: list[tuple[str, ...]] = []
    for group, title in GROUP_TITLES.items():
        for item in (i for i in report["items"] if i["group"] == group):
            mark = "yes" if item["reached"] else "NO"
            rows.append(
                (title, item["label"], mark, str(item["count"]), example_text(item["example"]))
            )
    head = ("group", "item", "reached", "count", "example")
    lines = [headline(report), ""]
    lines += _render(head, rows, markdown)
    if report["misuse"]:
        lines.append("")
        found: list[tuple[str, ...]] = [
            (
                str(m["rule"]),
                str(m["count"]),
                str(m["why"]),
                ", ".join(m.get("tests", [])) or example_text(m["example"]),
            )
            for m in report["misuse"]
        ]
        lines += _render(("misuse", "count", "why", "where"), found, markdown)
    return "\n".join(lines) + "\n"


def _render(head: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> list[str]:
    if markdown:
        cells = [head, tuple("---" for _ in head), *rows]
        return ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    widths = [max(len(row[n]) for row in (head, *rows)) for n in range(len(head))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (head, *rows)
    ]
