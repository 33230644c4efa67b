"""The data of one benchmark run: what the measures fill in and the report reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measurement:
    """One wrk load run against one server, after its check request."""

    section: str  # throughput | ceiling | prism | scaling
    server: str  # sandbox | ceiling | prism
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
class Target:
    name: str  # e.g. "RequestConsent / ceiling, one phone"; one per store
    store: str
    rule: str  # e.g. ">= 0.5"
    value: float | None
    detail: str
    status: str  # PASS | MISS | N/A


@dataclass
class Run:
    args: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    starts: list[ServerStart] = field(default_factory=list)
    dataset_loads: list[DatasetLoad] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    delays: list[DelayFigure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    request_consent_bytes: int | None = None  # a real response's size, for the ceiling's body

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
