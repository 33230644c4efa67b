"""The data of one benchmark run: what the measures fill in and the report reads."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measurement:
    """One wrk load run against one server, after its check request."""

    section: str  # throughput | ceiling | prism | scaling | instances | workers | inspector
    server: str  # sandbox | ceiling | prism | "2 instances" | "2 workers"
    store: str  # sqlite | memory | "" (not the sandbox)
    operation: str
    query: str
    stored: int | None  # consents in the store before the run (sandbox only)
    connections: int
    threads: int
    duration_s: int
    expected_items: int | None = None
    check_status: int | None = None
    check_bytes: int | None = None
    check_items: int | None = None
    problem: str = ""  # set when the check failed and nothing was measured
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    non_2xx: int = 0  # wrk's "Non-2xx or 3xx responses": answered, but not counted in rps
    socket_errors: int = 0
    rps: float | None = None  # successful (2xx) responses per second
    p50_ms: float | None = None
    mean_ms: float | None = None
    p99_ms: float | None = None
    # CPU cores other processes (not this server, wrk or run.py) kept busy during the run, on
    # average: how much the shared machine disturbed this figure.
    other_cpu: float | None = None
    server_cpu_s: float | None = None  # CPU the server process used during the run

    @property
    def cpu_us_per_request(self) -> float | None:
        """The server's CPU per answered request: what a request costs, whatever else ran."""
        if not self.server_cpu_s or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6

    @property
    def label(self) -> str:
        what = self.operation + (f" ({self.query})" if self.query else "")
        where = f"{self.server}/{self.store}" if self.store else self.server
        return f"{where} {what}"


@dataclass
class ServerStart:
    """How long a sandbox took to hold its consents and answer: the cost of a figure's set-up."""

    store: str
    consents: int
    seconds: float
    how: str


@dataclass
class DatasetLoad:
    """A dataset file read and checked (`read_dataset`), then loaded (`load`) into one store."""

    store: str
    consents: int
    shops: int
    read_s: float
    load_s: float
    other_cpu: float | None

    @property
    def total_s(self) -> float:
        return self.read_s + self.load_s

    @property
    def per_second(self) -> float:
        return self.consents / self.total_s if self.total_s > 0 else 0.0


@dataclass
class Generation:
    """`etelecom-sandbox fixtures generate`, timed from spawn to exit."""

    consents: int
    seconds: float
    file_bytes: int
    other_cpu: float | None

    @property
    def per_second(self) -> float:
        return self.consents / self.seconds if self.seconds > 0 else 0.0


@dataclass
class DelayFigure:
    """One fault rule's delay distribution: its setting's percentiles, the delays the sandbox
    drew (from the journal) and the latency clients measured."""

    setting: str
    requests: int
    concurrency: int
    drawn_p50_ms: float
    drawn_p99_ms: float
    measured_p50_ms: float
    measured_p99_ms: float
    expected_p50_ms: float = 0.0
    expected_p99_ms: float = 0.0
    other_cpu: float | None = None


@dataclass
class HostileRun:
    """Hostile requests sent to one served sandbox (contract_tests.hostile), and what they did."""

    store: str
    planned: int  # hostile requests asked for, spread over every label
    sent: int
    seconds: float
    sent_by_label: dict[str, int]
    # "METHOD path -> status" of every 5xx answer (501 is an answer, not a failure): how many.
    server_errors: dict[str, int]
    examples: dict[str, str]  # one request body and answer per kind of 5xx
    # Endpoint -> the hostile request sent last before it was found broken, and its answer.
    broken: dict[str, str]
    checks: int  # valid requests sent to check that nothing broke
    # Drawn but not sent: the HTTP client refuses their headers (why: how many; an example).
    refused: dict[str, int]
    refused_examples: dict[str, str]
    other_cpu: float | None

    @property
    def five_xx(self) -> int:
        return sum(self.server_errors.values())


@dataclass
class RssSample:
    at_s: float  # seconds since the traffic started
    rss_kb: int  # VmRSS of the server process


@dataclass
class SoakRun:
    """Steady mixed traffic against one served sandbox, with its RSS sampled every second."""

    store: str
    seconds: float  # how long the traffic ran
    threads: int
    rate: float  # requests per second asked of the client threads, in all
    requests: dict[str, int]  # per operation (clock moves included)
    non_2xx: dict[str, int]  # "operation -> status": count
    examples: dict[str, str]  # one answer per kind of non-2xx
    clock_moves: int
    events_received: int  # webhook events the local receiver accepted
    outbox: dict[str, int]  # drain counts at the end: delivered, failed, pending
    rss: list[RssSample]
    other_cpu: float | None

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def rps(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def rss_at(self, fraction: float) -> int | None:
        """VmRSS (kB) of the last sample taken by `fraction` of the run."""
        when = self.seconds * fraction
        taken = [s.rss_kb for s in self.rss if s.at_s <= when + 0.5]
        return taken[-1] if taken else None

    @property
    def growth_pct(self) -> float | None:
        """RSS growth from 20 % of the run to its end, in percent."""
        early, end = self.rss_at(0.2), self.rss_at(1.0)
        return None if not early or end is None else (end - early) * 100 / early


@dataclass
class Startup:
    """One command started `runs` times, interleaved with the others of the startup figure:
    seconds from spawn to its readiness line (a server) or to its exit (a plain command), and
    the CPU seconds it used by then."""

    what: str  # e.g. "serve --store memory", "python -c pass"
    store: str  # memory | sqlite | "" (not a server)
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    other_cpu: float | None = None

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def min_s(self) -> float | None:
        return min(self.seconds) if self.seconds else None

    @property
    def median_cpu_s(self) -> float | None:
        return statistics.median(self.cpu_s) if self.cpu_s else None


@dataclass
class KitRun:
    """`etelecom-sandbox contract --base-url URL` against a served sandbox, timed spawn to exit:
    where its wall time went (the kit's processes' CPU, the server's CPU, the rest)."""

    profile: str  # default | quick
    store: str
    seconds: float
    exit_code: int
    requests: int | None  # as the kit's summary line reports them
    passed: int | None
    failed: int | None
    errors: int | None
    skipped: int | None
    kit_cpu_s: float  # the contract command and its pytest child, user + system
    server_cpu_s: float
    other_cpu: float | None

    @property
    def rest_s(self) -> float:
        """Wall time neither process was on a CPU for (waiting: the loopback, the scheduler),
        less any time both were on one at once."""
        return self.seconds - self.kit_cpu_s - self.server_cpu_s


@dataclass
class Target:
    name: str  # e.g. "RequestConsent / ceiling, one phone"; one per store
    store: str
    rule: str  # e.g. ">= 0.5"
    value: float | None
    detail: str
    status: str  # PASS | MISS | N/A
    digits: int = 2  # decimals shown in the report (0 for counts)


@dataclass
class Run:
    args: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    starts: list[ServerStart] = field(default_factory=list)
    dataset_loads: list[DatasetLoad] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    delays: list[DelayFigure] = field(default_factory=list)
    hostile: list[HostileRun] = field(default_factory=list)
    soaks: list[SoakRun] = field(default_factory=list)
    startups: list[Startup] = field(default_factory=list)
    kits: list[KitRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    request_consent_bytes: int | None = None  # a real response's size, for the ceiling's body
    # What coverage counting adds to a wire request's server CPU, measured in-process (µs).
    counting_us: float | None = None

    def problem(self, where: str, message: object) -> None:
        """Record something that could not be measured (run.py then exits 1) and say so now."""
        self.problems.append(f"{where}: {message}")
        print(f"  !! {where}: {message}", flush=True)

    def find(self, **where: Any) -> Measurement | None:
        """The first measurement whose fields equal all of `where`."""
        for m in self.measurements:
            if all(getattr(m, k) == v for k, v in where.items()):
                return m
        return None
