"""The run's figures as the Markdown tables of bench/README.md, printed to stdout.

Each table appears only when its figures were taken (see run.py --only).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.noise import NOISY_CPU
from harness.servers import STORES
from options import Options
from results import Run, Target
from workloads import LIST_NAMES

SHOWN_ERRORS = 5  # kinds of 5xx answer listed under the hostile table


def print_report(run: Run, found: list[Target], opts: Options) -> None:
    sections = [
        measurements(run, opts),
        scaling(run, opts.large),
        instances(run),
        workers(run),
        startups(run),
        kits(run),
        dataset_loads(run),
        generations(run),
        delays(run),
        hostile(run),
        soak(run),
        targets(found) if found else [],
        noise(run),
        problems(run),
    ]
    for lines in sections:
        if lines:
            print("\n" + "\n".join(lines))


def table(header: Sequence[str], align: str, rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; `align` has one letter per column, l or r."""
    rule = "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"
    return [_row(header), rule, *(_row(row) for row in rows)]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _num(value: float | None, fmt: str, unit: str = "") -> str:
    return "-" if value is None else format(value, fmt) + unit


def measurements(run: Run, opts: Options) -> list[str]:
    """Every wrk run: req/s counts 2xx responses only; `other` is CPU used by other processes."""
    if not run.measurements:
        return []
    rows = []
    for m in run.measurements:
        notes = "; ".join([f"FAILED: {m.problem}"] if m.problem else m.notes)
        rows.append(
            [
                m.label,
                "-" if m.stored is None else f"{m.stored:,}",
                str(m.connections),
                _num(m.rps, ",.0f"),
                _num(m.p50_ms, ".2f"),
                _num(m.p99_ms, ".2f"),
                _num(m.mean_ms, ".2f"),
                _num(m.other_cpu, ".2f"),
                _num(m.cpu_us_per_request, ",.0f"),
                notes,
            ]
        )
    title = f"measurement ({opts.duration} s runs)"
    header = [
        title,
        "stored",
        "conn",
        "req/s",
        "p50 ms",
        "p99 ms",
        "mean ms",
        "other",
        "server CPU µs/req",
        "notes",
    ]
    return table(header, "lrrrrrrrrl", rows)


def scaling(run: Run, large: int) -> list[str]:
    """p50 at 1k and at `large` stored, and their ratio, per store and query."""
    rows = []
    for store in STORES:
        for query, what in LIST_NAMES.items():
            small = run.find(section="scaling", store=store, query=query, stored=1_000)
            big = run.find(section="scaling", store=store, query=query, stored=large)
            if small is None and big is None:
                continue
            a = small.p50_ms if small else None
            b = big.p50_ms if big else None
            ratio = _num(b / a, ".2f") if a and b else "-"
            rows.append([f"{store}, {what}", _num(a, ".2f", " ms"), _num(b, ".2f", " ms"), ratio])
    if not rows:
        return []
    header = ["list latency, p50 (1 connection)", "1,000 stored", f"{large:,} stored", "ratio"]
    return table(header, "lrrr", rows)


def instances(run: Run) -> list[str]:
    """One PostgreSQL instance (the throughput figure) beside several on one database."""
    rows = []
    for m in run.measurements:
        if m.section != "instances":
            continue
        one = run.find(
            section="throughput", store="postgresql", operation=m.operation, query=m.query
        )
        a = one.rps if one else None
        ratio = _num(m.rps / a, ".2f") if a and m.rps else "-"
        what = m.operation + (f" ({m.query})" if m.query else "")
        rows.append([what, _num(a, ",.0f"), _num(m.rps, ",.0f"), ratio, _num(m.other_cpu, ".2f")])
    if not rows:
        return []
    header = ["postgresql, req/s (same connections)", "1 instance", "2 instances", "ratio", "other"]
    return table(header, "lrrrr", rows)


def dataset_loads(run: Run) -> list[str]:
    """read_dataset and load, side by side for each store."""
    loads = run.dataset_loads
    if not loads:
        return []
    first = loads[0]
    rows = [
        ["read_dataset (parse, check)", *(f"{d.read_s:.2f} s" for d in loads)],
        ["load (shops, consents, planned events)", *(f"{d.load_s:.2f} s" for d in loads)],
        ["total", *(f"{d.total_s:.2f} s" for d in loads)],
        ["consents/s", *(f"{d.per_second:,.0f}" for d in loads)],
        ["other", *(_num(d.other_cpu, ".2f") for d in loads)],
    ]
    title = f"load a {first.consents:,}-consent dataset ({first.shops} shops)"
    return table([title, *(d.store for d in loads)], "l" + "r" * len(loads), rows)


def generations(run: Run) -> list[str]:
    """`fixtures generate`, spawn to exit."""
    if not run.generations:
        return []
    rows = [
        [
            f"{g.consents:,} consents",
            f"{g.seconds:.2f}",
            f"{g.per_second:,.0f}",
            f"{g.file_bytes / 1e6:.1f} MB",
            _num(g.other_cpu, ".2f"),
        ]
        for g in run.generations
    ]
    header = ["`fixtures generate` (CLI)", "seconds", "consents/s", "file", "other"]
    return table(header, "lrrrr", rows)


def delays(run: Run) -> list[str]:
    """Fault delay distributions: the setting, what was drawn, what clients measured (ms)."""
    if not run.delays:
        return []
    rows = [
        [
            d.setting,
            f"{d.expected_p50_ms:.1f} / {d.expected_p99_ms:.1f}",
            f"{d.drawn_p50_ms:.1f} / {d.drawn_p99_ms:.1f}",
            f"{d.measured_p50_ms:.1f} / {d.measured_p99_ms:.1f}",
            _num(d.other_cpu, ".2f"),
        ]
        for d in run.delays
    ]
    first = run.delays[0]
    title = f"fault delay, ListOA ({first.requests} requests, {first.concurrency} at a time)"
    header = [title, "setting p50 / p99", "drawn p50 / p99", "measured p50 / p99", "other"]
    return table(header, "lrrrr", rows)


def targets(found: list[Target]) -> list[str]:
    """One row per target, one column per store: the value and PASS, MISS or N/A (not
    measured); "-" where the target does not hold that store. The rule is per store when the
    stores' rules differ."""
    names = list(dict.fromkeys(t.name for t in found))
    rows = []
    for name in names:
        by_store = {t.store: t for t in found if t.name == name}
        cells = [_target_cell(by_store.get(store)) for store in STORES]
        rules = {t.store: _rule(t.rule) for t in by_store.values()}
        if len(set(rules.values())) == 1:
            rule = next(iter(rules.values()))
        else:
            rule = ", ".join(f"{store} {rules[store]}" for store in STORES if store in rules)
        rows.append([name, *cells, rule])
    return table(["target", *STORES, "rule"], "l" + "r" * len(STORES) + "l", rows)


def _rule(rule: str) -> str:
    return rule.replace(">=", "≥").replace("<=", "≤")


def _target_cell(target: Target | None) -> str:
    if target is None:
        return "-"
    if target.value is None:
        return "N/A"
    return f"{target.value:,.{target.digits}f} {target.status}"


def workers(run: Run) -> list[str]:
    """`serve --workers 2` on SQLite beside the single process (the throughput figure): not
    held to the single-process ceiling."""
    rows = []
    for m in run.measurements:
        if m.section != "workers":
            continue
        one = run.find(section="throughput", store=m.store, operation=m.operation, query=m.query)
        a = one.rps if one else None
        ratio = _num(m.rps / a, ".2f") if a and m.rps else "-"
        what = f"{m.store} {m.operation}" + (f" ({m.query})" if m.query else "")
        rows.append(
            [
                what,
                _num(a, ",.0f"),
                _num(m.rps, ",.0f"),
                ratio,
                _num(one.cpu_us_per_request if one else None, ",.0f"),
                _num(m.cpu_us_per_request, ",.0f"),
                _num(m.other_cpu, ".2f"),
            ]
        )
    if not rows:
        return []
    header = [
        "req/s (same connections)",
        "1 process",
        "2 workers",
        "ratio",
        "CPU µs/req, 1",
        "CPU µs/req, 2",
        "other",
    ]
    return table(header, "lrrrrrr", rows)


def startups(run: Run) -> list[str]:
    """Each command's start, median and fastest, side by side (their runs were interleaved)."""
    if not run.startups:
        return []
    rows = [
        [
            f"`{s.what}`",
            _num(s.median_s, ".3f"),
            _num(s.min_s, ".3f"),
            _num(max(s.seconds) if s.seconds else None, ".3f"),
            _num(s.median_cpu_s, ".3f"),
            _num(s.other_cpu, ".2f"),
        ]
        for s in run.startups
    ]
    runs = max(len(s.seconds) for s in run.startups)
    header = [
        f"start, spawn to readiness line or exit ({runs} runs each)",
        "median s",
        "min s",
        "max s",
        "CPU s (median)",
        "other",
    ]
    return table(header, "lrrrrr", rows)


def kits(run: Run) -> list[str]:
    """The contract kit over HTTP: wall time, requests, and whose CPU the time was."""
    if not run.kits:
        return []
    rows = [
        [
            f"{k.profile} ({k.store})",
            f"{k.seconds:.1f}",
            _num(k.requests, ","),
            _num(k.requests / k.seconds if k.requests and k.seconds else None, ",.0f"),
            f"{k.kit_cpu_s:.1f}",
            f"{k.server_cpu_s:.1f}",
            f"{k.rest_s:.1f}",
            f"{k.passed or 0} passed, {k.failed or 0} failed, {k.errors or 0} errors, "
            f"{k.skipped or 0} skipped (exit {k.exit_code})",
            _num(k.other_cpu, ".2f"),
        ]
        for k in run.kits
    ]
    header = [
        "contract kit over HTTP, profile",
        "seconds",
        "requests",
        "req/s",
        "kit CPU s",
        "server CPU s",
        "rest s",
        "tests",
        "other",
    ]
    return table(header, "lrrrrrrlr", rows)


def hostile(run: Run) -> list[str]:
    """Hostile requests per store: sent, 5xx answers, endpoints left broken; then each 5xx kind
    (the first few) and each broken endpoint, with the request that came before it."""
    runs = run.hostile
    if not runs:
        return []
    rows = [
        ["hostile requests sent", *(f"{h.sent:,}" for h in runs)],
        ["answered 5xx (501 excepted)", *(f"{h.five_xx:,}" for h in runs)],
        ["endpoints left broken", *(str(len(h.broken)) for h in runs)],
        ["valid requests sent to check", *(f"{h.checks:,}" for h in runs)],
        ["drawn, not sent (the client refuses)", *(f"{sum(h.refused.values())}" for h in runs)],
        ["seconds", *(f"{h.seconds:,.0f}" for h in runs)],
        ["other", *(_num(h.other_cpu, ".2f") for h in runs)],
    ]
    title = f"hostile requests ({len(runs[0].sent_by_label)} labels), per store"
    lines = table([title, *(h.store for h in runs)], "l" + "r" * len(runs), rows)
    for h in runs:
        for kind, count in list(h.server_errors.items())[:SHOWN_ERRORS]:
            lines.append(f"- {h.store}: {kind} ({count}x): {h.examples.get(kind, '')}")
        if len(h.server_errors) > SHOWN_ERRORS:
            lines.append(f"- {h.store}: and {len(h.server_errors) - SHOWN_ERRORS} more kinds")
        for endpoint, detail in h.broken.items():
            lines.append(f"- {h.store}: {endpoint} left broken, {detail}")
        for why, count in h.refused.items():
            example = h.refused_examples.get(why, "")
            lines.append(f"- {h.store}: not sent ({count}x), the client refuses: {why}: {example}")
    return lines


def soak(run: Run) -> list[str]:
    """The soak: traffic, answers, webhook events, and the server's RSS through the run."""
    lines: list[str] = []
    for s in run.soaks:
        marks = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
        rss = ", ".join(_num(_mb(s.rss_at(f)), ".1f") for f in marks)
        mix = ", ".join(f"{op} {n:,}" for op, n in sorted(s.requests.items()))
        outbox = ", ".join(f"{k} {v:,}" for k, v in s.outbox.items())
        growth = s.growth_pct
        peak = max((r.rss_kb for r in s.rss), default=None)
        rows = [
            ["requests", f"{s.total:,} ({mix})"],
            ["req/s", f"{s.rps:,.0f} (asked: {s.rate:,.0f}, {s.threads} threads)"],
            ["non-2xx", f"{sum(s.non_2xx.values()):,}"],
            ["clock moves", f"{s.clock_moves:,}"],
            ["webhook events received", f"{s.events_received:,}"],
            ["outbox at the end (after a drain)", outbox],
            ["RSS, MB, at 0/20/40/60/80/100 %", rss],
            [
                "RSS at 20 %, at the end",
                f"{_num(_mb(s.rss_at(0.2)), '.1f')} MB, "
                f"{_num(_mb(s.rss_at(1.0)), '.1f')} MB (peak {_num(_mb(peak), '.1f')} MB)",
            ],
            ["growth, 20 % to the end", _num(growth, "+.1f", " %")],
            ["other", _num(s.other_cpu, ".2f")],
        ]
        title = f"soak: sandbox/{s.store}, {s.seconds:,.0f} s"
        lines += table([title, "value"], "lr", rows)
        lines += [f"- {kind} ({n}x): {s.examples.get(kind, '')}" for kind, n in s.non_2xx.items()]
    return lines


def _mb(kb: int | None) -> float | None:
    return None if kb is None else kb / 1024


def noise(run: Run) -> list[str]:
    figures: list[tuple[str, float | None]] = [(m.label, m.other_cpu) for m in run.measurements]
    figures += [(f"dataset-load {d.store}", d.other_cpu) for d in run.dataset_loads]
    figures += [("fixtures-generate", g.other_cpu) for g in run.generations]
    figures += [(f"fault-delays {d.setting}", d.other_cpu) for d in run.delays]
    figures += [(f"hostile {h.store}", h.other_cpu) for h in run.hostile]
    figures += [(f"soak {s.store}", s.other_cpu) for s in run.soaks]
    figures += [(f"startup {s.what}", s.other_cpu) for s in run.startups]
    figures += [(f"kit {k.profile}", k.other_cpu) for k in run.kits]
    noisy = [other for _, other in figures if other is not None and other > NOISY_CPU]
    if not noisy:
        return []
    return [
        f"Noise: {len(noisy)} of {len(figures)} figures shared the machine with other processes"
        f" using > {NOISY_CPU} core (up to {max(noisy):.2f}): they may be low."
    ]


def problems(run: Run) -> list[str]:
    if not run.problems:
        return []
    return ["Problems", *(f"  - {problem}" for problem in run.problems)]
