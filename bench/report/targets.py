"""The targets the figures are held to (bench/README.md, "Targets"): issue 11's, each on the
store it names (every store where it names none), and the hostile, soak and inspector ones."""

from __future__ import annotations

import statistics

from harness.servers import STORES
from results import Measurement, Run, Target
from workloads import LIST_NAMES

RC = "RequestConsent"
LIST = "ListRequestConsent"


def targets(run: Run, large: int) -> list[Target]:
    """The targets of the figures this run took."""
    wrk = wrk_targets(run, large) if run.measurements else []
    return wrk + startup(run) + kit(run) + hostile(run) + soak(run)


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


# Issue 11's targets for the wrk figures, each on the store the issue names: (name, store, top,
# bottom, rule). `top` and `bottom` are the measurements of the ratio, as run.find() filters;
# "store" in them is filled in. The scaling targets name no store: every store is held to them.
DISTINCT = {"section": "throughput", "operation": RC, "query": "distinct phones"}
LISTED = {"section": "throughput", "operation": LIST, "query": "phone"}
CEILING = {"server": "ceiling"}
PRISM_RC = {"server": "prism", "operation": RC}
PRISM_LIST = {"server": "prism", "operation": LIST}
NAMED: tuple[tuple[str, str, dict[str, str], dict[str, str], str], ...] = (
    (f"{RC} / Prism, distinct phones", "sqlite", DISTINCT, PRISM_RC, ">= 4"),
    (f"{RC} / ceiling, distinct phones", "sqlite", DISTINCT, CEILING, ">= 0.5"),
    (f"{RC} / ceiling, distinct phones", "memory", DISTINCT, CEILING, ">= 0.6"),
    (f"{LIST} (phone, 100 items, 10k stored) / Prism", "sqlite", LISTED, PRISM_LIST, ">= 3"),
    (f"{LIST} (phone, 100 items, 10k stored) / Prism", "memory", LISTED, PRISM_LIST, ">= 5"),
)
SCALING_RULE = "<= 1.2"
STARTUP_RULE = ("memory", "<= 0.3")  # seconds, the median of the runs
KIT_RULES = {"default": "<= 120", "quick": "<= 10"}  # seconds, spawn to exit


def wrk_targets(run: Run, large: int) -> list[Target]:
    """The wrk figures' ratios: throughput against the ceiling and Prism on the store the issue
    names; list scaling (three queries), the inspector and coverage counting on every store."""
    out: list[Target] = []
    for name, store, top, bottom, rule in NAMED:
        mine, theirs = run.find(store=store, server="sandbox", **top), run.find(**bottom)
        if mine or theirs:  # a target none of whose figures this run took is left out
            out.append(_ratio(name, store, mine, theirs, rule, "rps"))
    for store in STORES:
        for query, what in LIST_NAMES.items():
            small = run.find(section="scaling", store=store, query=query, stored=1_000)
            big = run.find(section="scaling", store=store, query=query, stored=large)
            if small or big:
                name = f"list p50, {count(large)} / 1k stored, {what}"
                out.append(_ratio(name, store, big, small, SCALING_RULE, "p50_ms"))
        out += inspector_targets(run, store)
        out += coverage_targets(run, store)
    return out


def coverage_targets(run: Run, store: str) -> list[Target]:
    """Counting coverage keeps a RequestConsent within 3 % of its cost without (the server's
    CPU per request; the median of the counting runs over that of the others)."""
    loads = [m for m in run.measurements if m.section == "coverage" and m.store == store]
    if not loads:
        return []

    def median_cpu(counting: bool) -> float | None:
        cpu = [
            m.cpu_us_per_request
            for m in loads
            if m.query.startswith("distinct phones, not") != counting and m.cpu_us_per_request
        ]
        return statistics.median(cpu) if cpu else None

    name = f"{RC} CPU/request, counting / not (medians)"
    on, base = median_cpu(True), median_cpu(False)
    if not on or not base:
        return [Target(name, store, "<= 1.03", None, "not measured", "N/A")]
    value = on / base
    detail = f"{on:.0f} / {base:.0f} us"
    out = [Target(name, store, "<= 1.03", value, detail, "PASS" if value <= 1.03 else "MISS")]
    if run.counting_us is not None:
        share = run.counting_us / base
        detail = f"{run.counting_us:.2f} / {base:.0f} us"
        name = f"counting's own CPU / {RC} CPU, per request"
        status = "PASS" if share <= 0.03 else "MISS"
        out.append(Target(name, store, "<= 0.03", share, detail, status, digits=4))
    return out


def startup(run: Run) -> list[Target]:
    """`serve --store memory --port 0`: spawn to readiness line, median of the runs."""
    store, rule = STARTUP_RULE
    out: list[Target] = []
    for s in run.startups:
        if s.store != store:
            continue
        name = "serve: spawn to readiness line, median (s)"
        median = s.median_s
        if median is None:
            out.append(Target(name, store, rule, None, "not measured", "N/A"))
            continue
        detail = f"median {median:.3f} s, min {s.min_s:.3f} s of {len(s.seconds)} runs"
        out.append(Target(name, store, rule, median, detail, _judge(median, rule), digits=3))
    return out


def kit(run: Run) -> list[Target]:
    """`etelecom-sandbox contract --base-url URL`, default profile and --quick: seconds."""
    out: list[Target] = []
    for k in run.kits:
        rule = KIT_RULES[k.profile]
        name = f"contract kit over HTTP, {k.profile} profile (s)"
        detail = f"{k.seconds:.1f} s, {k.requests or 0:,} requests, exit {k.exit_code}"
        out.append(Target(name, k.store, rule, k.seconds, detail, _judge(k.seconds, rule), 1))
    return out


def _judge(value: float, rule: str) -> str:
    op, threshold = rule.split()
    ok = value >= float(threshold) if op == ">=" else value <= float(threshold)
    return "PASS" if ok else "MISS"


def inspector_targets(run: Run, store: str) -> list[Target]:
    """Ten open pages add < 5 % to a RequestConsent's cost (the server's CPU per request, which
    other processes on a shared machine change less than throughput; the median of the runs
    with pages over that of the runs without), and a 100-row consents page renders in
    < 300 ms."""
    out: list[Target] = []
    loads = [
        m
        for m in run.measurements
        if m.section == "inspector" and m.store == store and m.query.startswith("distinct phones")
    ]

    def median_cpu(label: str) -> float | None:
        cpu = [m.cpu_us_per_request for m in loads if label in m.query and m.cpu_us_per_request]
        return statistics.median(cpu) if cpu else None

    alone, with_pages = median_cpu("no page"), median_cpu("10 pages")
    if loads:
        name = f"{RC} CPU/request, 10 pages open / none (medians)"
        if not alone or not with_pages:
            out.append(Target(name, store, "<= 1.05", None, "not measured", "N/A"))
        else:
            value = with_pages / alone
            detail = f"{with_pages:.0f} / {alone:.0f} us"
            out.append(
                Target(name, store, "<= 1.05", value, detail, "PASS" if value <= 1.05 else "MISS")
            )
    quiet, busy = (
        run.find(section="inspector", store=store, query=f"20 changes/s, {n} pages")
        for n in (0, 10)
    )
    load = next((m for m in loads if "no page" in m.query), None)
    if quiet and busy and load and quiet.server_cpu_s is not None and busy.server_cpu_s:
        pages_per_s = (busy.server_cpu_s - quiet.server_cpu_s) / busy.duration_s
        load_per_s = (load.server_cpu_s or 0) / load.duration_s
        if load_per_s > 0:
            value = pages_per_s / load_per_s
            detail = f"{pages_per_s * 1000:.1f} / {load_per_s * 1000:.0f} ms CPU per s"
            name = "10 pages' own server CPU / RequestConsent load's"
            out.append(
                Target(name, store, "<= 0.05", value, detail, "PASS" if value <= 0.05 else "MISS")
            )
    page = run.find(section="inspector", store=store, operation="inspector consents page")
    if page is not None:
        p50 = page.p50_ms
        detail = "not measured" if p50 is None else f"p50 {p50:.1f} ms"
        status = "N/A" if p50 is None else "PASS" if p50 < 300 else "MISS"
        name = "consents page, 100 of 100k rows (ms)"
        out.append(Target(name, store, "< 300", p50, detail, status))
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
    unit, fmt = ("req/s", "{:,.0f}") if metric == "rps" else ("ms", "{:.2f}")
    detail = f"{fmt.format(a)} / {fmt.format(b)} {unit}"
    return Target(name, store, rule, value, detail, _judge(value, rule))
