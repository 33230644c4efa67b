"""The command line of bench/run.py, parsed into typed options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "latest.json"
# Every figure, in the order run.py measures them (the ceiling's body size comes from the
# throughput figure, so it needs that one too).
FIGURES = (
    "throughput",
    "ceiling",
    "prism",
    "scaling",
    "instances",
    "workers",
    "startup",
    "kit",
    "dataset-load",
    "fixtures-generate",
    "fault-delays",
    "inspector-cost",
    "inspector-render",
    "coverage-cost",
    "hostile",
    "soak",
)
WRK_FIGURES = frozenset((*FIGURES[:6], "inspector-cost", "coverage-cost"))
KIT_PROFILES = ("default", "quick")  # `contract` without and with --quick


@dataclass(frozen=True)
class Options:
    duration: int  # seconds per measured wrk run
    connections: int  # for the throughput runs (scaling runs use 1)
    threads: int  # wrk threads for the throughput runs
    quick: bool
    large: int  # consents stored for the large side of the scaling figure
    load_consents: int  # the dataset-load figure's dataset
    generate_consents: int  # the fixtures-generate figure's dataset
    hostile_requests: int  # hostile requests per store, spread over every label
    soak_seconds: int  # how long the soak's traffic runs
    soak_rate: float  # requests per second the soak's client threads aim at, in all
    startup_runs: int  # timed starts of each command of the startup figure
    kit_profiles: tuple[str, ...]  # the contract kit's profiles the kit figure runs
    output: Path
    note: str
    figures: tuple[str, ...]

    @property
    def needs_wrk(self) -> bool:
        return not WRK_FIGURES.isdisjoint(self.figures)


def parse(argv: list[str] | None, description: str) -> Options:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=int, default=None, help="seconds per load run [10]")
    parser.add_argument("--connections", type=int, default=32, help="for the throughput runs")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads for throughput runs")
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 2 s runs, 100k instead of 1M stored"
    )
    parser.add_argument(
        "--hostile-requests", type=int, default=None, help="per store [20000; 2000 --quick]"
    )
    parser.add_argument(
        "--soak-seconds", type=int, default=None, help="soak length [600; 60 with --quick]"
    )
    parser.add_argument("--soak-rate", type=float, default=200.0, help="soak requests/s [200]")
    parser.add_argument(
        "--startup-runs", type=int, default=None, help="starts of each command [10; 3 --quick]"
    )
    parser.add_argument(
        "--kit-profile",
        action="append",
        choices=KIT_PROFILES,
        help="the contract kit's profile (repeatable) [default and quick]",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--note", default="", help="free text kept in the JSON (what was run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=FIGURES,
        metavar="FIGURE",
        help=f"measure only this figure (repeatable): {', '.join(FIGURES)}",
    )
    args = parser.parse_args(argv)
    chosen = set(args.only or FIGURES)
    return Options(
        duration=args.duration if args.duration is not None else 2 if args.quick else 10,
        connections=args.connections,
        threads=args.threads,
        quick=args.quick,
        large=100_000 if args.quick else 1_000_000,
        # The data figures are fixed work, not timed runs: --quick keeps their sizes.
        load_consents=100_000,
        generate_consents=200_000,
        hostile_requests=_given(args.hostile_requests, 2_000 if args.quick else 20_000),
        soak_seconds=_given(args.soak_seconds, 60 if args.quick else 600),
        soak_rate=args.soak_rate,
        startup_runs=_given(args.startup_runs, 3 if args.quick else 10),
        kit_profiles=tuple(p for p in KIT_PROFILES if p in (args.kit_profile or KIT_PROFILES)),
        output=args.output,
        note=args.note,
        figures=tuple(name for name in FIGURES if name in chosen),
    )


def _given(value: int | None, default: int) -> int:
    return default if value is None else value
