"""The targets the figures are held to (bench/README.md, "Targets"), one per store."""

from __future__ import annotations

from harness.servers import STORES
from results import Measurement, Run, Target

RC = "RequestConsent"
LIST = "ListRequestConsent"


def targets(run: Run, large: int) -> list[Target]:
    """The targets of the figures this run took."""
    return (wrk_targets(run, large) if run.measurements else []) + hostile(run) + soak(run)


def hostile(run: Run) -> list[Target]:
    """No 5xx answer (501 is an answer) and no endpoint left broken, on each store."""
    out: list[Target] = []
    for h in run.hostile:
        sent = f"of {h.sent:,} hostile requests"
        errors, broken = h.five_xx, len(h.broken)
        out += [
            Target(
                "hostile: 5xx answers",
                h.store,
                "<= 0",
                errors,
                f"{errors} {sent}",
                "PASS" if errors == 0 else "MISS",
                digits=0,
            ),
            Target(
                "hostile: endpoints left broken",
                h.store,
                "<= 0",
                broken,
                ", ".join(h.broken) or "none",
                "PASS" if broken == 0 else "MISS",
                digits=0,
            ),
        ]
    return out


def soak(run: Run) -> list[Target]:
    """RSS grows by 10 % at most from 20 % of the soak to its end."""
    out: list[Target] = []
    for s in run.soaks:
        growth = s.growth_pct
        name = "soak: RSS growth from 20 % to the end, %"
        if growth is None:
            out.append(Target(name, s.store, "<= 10", None, "no RSS samples", "N/A", digits=1))
            continue
        detail = f"{s.rss_at(0.2)} kB -> {s.rss_at(1.0)} kB"
        status = "PASS" if growth <= 10 else "MISS"
        out.append(Target(name, s.store, "<= 10", round(growth, 2), detail, status, digits=1))
    return out


def wrk_targets(run: Run, large: int) -> list[Target]:
    """The wrk figures' ratios: throughput against the ceiling and Prism, list scaling."""
    ceiling = run.find(server="ceiling")
    prism_rc = run.find(server="prism", operation=RC)
    prism_list = run.find(server="prism", operation=LIST)
    out: list[Target] = []
    for store in STORES:
        one = run.find(section="throughput", store=store, operation=RC, query="")
        distinct = run.find(
            section="throughput", store=store, operation=RC, query="distinct phones"
        )
        listed = run.find(section="throughput", store=store, operation=LIST)
        out += [
            _ratio(f"{RC} / ceiling, distinct phones", store, distinct, ceiling, ">= 0.5", "rps"),
            _ratio(f"{RC} / ceiling, one phone", store, one, ceiling, ">= 0.5", "rps"),
            _ratio(f"{RC} / Prism, distinct phones", store, distinct, prism_rc, ">= 3", "rps"),
            _ratio(f"{RC} / Prism, one phone", store, one, prism_rc, ">= 3", "rps"),
            _ratio(f"{LIST} / Prism", store, listed, prism_list, ">= 2", "rps"),
        ]
        for query, what in (("unfiltered", "first page"), ("phone", "phone filter")):
            small = run.find(section="scaling", store=store, query=query, stored=1_000)
            big = run.find(section="scaling", store=store, query=query, stored=large)
            name = f"list p50, {count(large)} / 1k stored, {what}"
            out.append(_ratio(name, store, big, small, "<= 1.5", "p50_ms"))
    return out


def count(stored: int) -> str:
    """1k, 100k, 1M."""
    return f"{stored // 1_000_000}M" if stored >= 1_000_000 else f"{stored // 1000:,}k"


def _ratio(
    name: str,
    store: str,
    top: Measurement | None,
    bottom: Measurement | None,
    rule: str,
    metric: str,
) -> Target:
    a: float | None = getattr(top, metric) if top else None
    b: float | None = getattr(bottom, metric) if bottom else None
    if not a or not b:
        return Target(name, store, rule, None, "not measured", "N/A")
    value = a / b
    op, threshold = rule.split()
    ok = value >= float(threshold) if op == ">=" else value <= float(threshold)
    unit, fmt = ("req/s", "{:,.0f}") if metric == "rps" else ("ms", "{:.2f}")
    detail = f"{fmt.format(a)} / {fmt.format(b)} {unit}"
    return Target(name, store, rule, value, detail, "PASS" if ok else "MISS")
