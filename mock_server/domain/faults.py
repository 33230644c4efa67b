"""Fault rules: what a rule matches, what it does, and when; and the seeded draws that make a
probability or a delay the same for the same seed and requests.

A rule matches either wire operations (a request is answered with an error, late, or not at
all) or webhook deliveries (an attempt is dropped, sent twice, sent after the next event, or
late). Rules are parsed from their documents in fault_rules.py and kept in fault_book.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from mock_server.domain.behaviour import unit_draws

# Every action a rule may name (the control spec's FaultAction lists the same).
ERROR, DELAY, DROP, HANG, TRUNCATE, DUPLICATE, REORDER = (
    "error",
    "delay",
    "drop",
    "hang",
    "truncate",
    "duplicate",
    "reorder",
)
ACTIONS = (ERROR, DELAY, DROP, HANG, TRUNCATE, DUPLICATE, REORDER)
# What answers a wire request instead of the operation (at most one; a delay may come first).
REQUEST_OUTCOMES = (ERROR, DROP, HANG, TRUNCATE)
# What a webhook rule does to a delivery attempt (exactly one).
DELIVERY_ACTIONS = (DROP, DUPLICATE, REORDER, DELAY)
# Connection faults, asked by rules or by the X-Sandbox-Fault header.
CONNECTION_FAULTS = (DROP, HANG, TRUNCATE)
BEFORE, AFTER = "before", "after"
PHASES = (BEFORE, AFTER)
SIDES = ("shop", "partner")
WALL, VIRTUAL = "wall", "virtual"
CLOCKS = (WALL, VIRTUAL)
FIXED, UNIFORM, LOGNORMAL = "fixed", "uniform", "lognormal"
DISTRIBUTIONS = (FIXED, UNIFORM, LOGNORMAL)
# Twirp codes whose answer may carry Retry-After (the spec's TwirpErrorCode must have them).
RETRY_CODES = ("resource_exhausted", "unavailable")
ANY = "*"
_Z99 = NormalDist().inv_cdf(0.99)


@dataclass(frozen=True)
class FaultPolicy:
    """What parsing a rule needs to know, read from the specs at start-up."""

    operations: frozenset[str]  # Twirp methods and operationIds of the wire spec
    events: frozenset[str]  # the wire spec's webhook events
    codes: frozenset[str]  # Twirp codes
    max_delay_ms: int
    max_retry_after_ms: int
    max_ttl_ms: int
    seed: int = 0


@dataclass(frozen=True)
class Delay:
    """A delay distribution, in ms: fixed (a), uniform (a to b), log-normal (median a, p99 b)."""

    kind: str
    a: int
    b: int = 0
    clock: str = WALL
    cap: int = 0  # the largest delay a draw may give (a log-normal's tail is cut there); 0: none

    def sample(self, unit: float) -> int:
        """The delay for a draw `unit` in [0, 1)."""
        if self.kind == FIXED:
            return self.a
        if self.kind == UNIFORM:
            return self.a + int(unit * (self.b - self.a + 1))
        if self.a <= 0:
            return 0
        sigma = (math.log(max(self.b, self.a)) - math.log(self.a)) / _Z99
        z = NormalDist().inv_cdf(min(max(unit, 1e-12), 1 - 1e-12))
        logged = math.log(self.a) + sigma * z  # in log space: no overflow, however far out
        if self.cap and logged >= math.log(self.cap):
            return self.cap
        return round(math.exp(min(logged, 700.0)))


@dataclass(frozen=True)
class ErrorAnswer:
    code: str
    msg: str
    retry_after_ms: int | None = None


@dataclass(frozen=True)
class Match:
    operations: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    url: str | None = None
    shop_id: int | None = None
    oa_id: int | None = None
    phone: str | None = None  # 84xxxxxxxxx
    side: str | None = None


@dataclass(frozen=True)
class Call:
    """A wire request, as far as rules can see it."""

    operation: str  # Twirp method
    operation_id: str
    side: str
    shop_id: int
    oa_id: int | None
    phone: str | None  # 84xxxxxxxxx


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery attempt, as far as rules can see it."""

    event: str
    url: str
    shop_id: int
    oa_id: int
    phone: str | None


@dataclass(frozen=True)
class FaultRule:
    id: str
    match: Match
    action: str  # one of REQUEST_OUTCOMES or DELIVERY_ACTIONS, or DELAY alone
    delay: Delay | None = None
    error: ErrorAnswer | None = None
    phase: str = BEFORE
    probability: float = 1.0
    times: int | None = None
    ttl_ms: int | None = None

    @property
    def for_deliveries(self) -> bool:
        return bool(self.match.events)

    def matches_call(self, call: Call) -> bool:
        m = self.match
        return (
            bool(m.operations)
            and (
                ANY in m.operations
                or not {call.operation, call.operation_id}.isdisjoint(m.operations)
            )
            and m.side in (None, call.side)
            and _same(m.shop_id, call.shop_id)
            and _same(m.oa_id, call.oa_id)
            and _same(m.phone, call.phone)
        )

    def matches_delivery(self, delivery: Delivery) -> bool:
        m = self.match
        return (
            bool(m.events)
            and (ANY in m.events or delivery.event in m.events)
            and m.url in (None, delivery.url)
            and _same(m.shop_id, delivery.shop_id)
            and _same(m.oa_id, delivery.oa_id)
            and _same(m.phone, delivery.phone)
        )


def _same(wanted: object, actual: object) -> bool:
    return wanted is None or wanted == actual


@dataclass(frozen=True)
class Fault:
    """What happens to one request: a delay (ms, wall time), then at most one outcome."""

    rule_id: str | None  # None: a one-off asked by a request header
    phase: str = BEFORE
    outcome: str | None = None  # one of REQUEST_OUTCOMES, None: the delay alone
    error: ErrorAnswer | None = None
    delay_ms: int = 0

    @property
    def label(self) -> str:
        """The Twirp code answered, the connection fault, or "delay"."""
        if self.error is not None:
            return self.error.code
        return self.outcome or DELAY


@dataclass(frozen=True)
class DeliveryFault:
    """What happens to one webhook delivery attempt."""

    rule_id: str
    action: str  # one of DELIVERY_ACTIONS
    delay_ms: int = 0
    clock: str = WALL


@dataclass(frozen=True)
class Draw:
    """The two numbers one match of a rule draws: whether it fires, and its delay."""

    fires: float
    delay: float


def draw(seed: int, rule_id: str, nth_match: int) -> Draw:
    """Reproducible: from the seed, the rule's id and how many requests it matched before."""
    units = unit_draws(f"{seed}:fault:{rule_id}:{nth_match}")
    return Draw(units[0], units[1])


def request_fault(rule: FaultRule, unit: Draw) -> Fault:
    delay = rule.delay.sample(unit.delay) if rule.delay else 0
    outcome = None if rule.action == DELAY else rule.action
    return Fault(rule.id, rule.phase, outcome, rule.error, delay)


def delivery_fault(rule: FaultRule, unit: Draw) -> DeliveryFault:
    delay = rule.delay.sample(unit.delay) if rule.delay else 0
    clock = rule.delay.clock if rule.delay else WALL
    return DeliveryFault(rule.id, rule.action, delay, clock)
