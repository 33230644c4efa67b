"""What a customer will do with a request, decided when it is created.

In order: the shop's rules, the global rules (a scenario file or PUT /_sandbox/rules), the magic
phones, then a seeded random default. Forced actions from the control API come later, at any
time, and win over all of these.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mock_server.domain.durations import parse_duration_ms
from mock_server.domain.phones import normalize_phone
from mock_server.domain.policy import Behaviours

AGREE, REJECT, IGNORE, UNDELIVERED = "agree", "reject", "ignore", "undelivered"
# Outcomes that fail at once, with Zalo's error code and message (3P).
FAILURES: Mapping[str, tuple[int, str]] = {
    "no_zalo": (-213, "the phone has no Zalo account or has never interacted with the OA"),
    "oa_quota": (-224, "the OA has used up its quota of consent requests"),
    "too_many": (5, "too many requests to this phone"),
}
# Every outcome a rule may name (the control spec's ScenarioRule.outcome must list the same).
OUTCOMES = (AGREE, REJECT, IGNORE, UNDELIVERED, *FAILURES)


@dataclass(frozen=True)
class Behaviour:
    """Offsets in ms from the request's creation; None means it never happens."""

    outcome: str
    received_at: int | None = None
    seen_at: int | None = None
    reply_at: int | None = None
    call_window_ms: int | None = None  # None: the setting's window
    source: str = "random"

    @property
    def failure(self) -> tuple[int, str] | None:
        return FAILURES.get(self.outcome)


@dataclass(frozen=True)
class Rule:
    outcome: str
    phone: str | None = None  # exact, compared in the 84xxxxxxxxx form
    pattern: re.Pattern[str] | None = None  # matched against the 84xxxxxxxxx form
    received_after: int | None = None
    seen_after: int | None = None
    reply_after: int | None = None
    call_window: int | None = None
    name: str = ""

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> Rule:
        """A rule as the control spec's ScenarioRule describes it (already validated);
        `re.error` when its pattern is no regular expression."""

        def duration(key: str) -> int | None:
            return parse_duration_ms(data[key]) if data.get(key) else None

        return cls(
            outcome=data["outcome"],
            phone=normalize_phone(data["phone"]) if data.get("phone") else None,
            pattern=re.compile(data["pattern"]) if data.get("pattern") else None,
            received_after=duration("received_after"),
            seen_after=duration("seen_after"),
            reply_after=duration("reply_after"),
            call_window=duration("call_window"),
            name=data.get("name", ""),
        )

    def matches(self, phone_norm: str) -> bool:
        if self.phone is not None and self.phone != phone_norm:
            return False
        return self.pattern is None or self.pattern.fullmatch(phone_norm) is not None

    def behaviour(self, source: str) -> Behaviour:
        reply = self.reply_after if self.outcome in (AGREE, REJECT) else None
        seen = self.seen_after if self.seen_after is not None else reply
        received = self.received_after
        if received is None and self.outcome != UNDELIVERED:
            received = min(x for x in (seen, reply, 0) if x is not None)
        if self.outcome == UNDELIVERED:
            received = seen = None
        return Behaviour(
            self.outcome,
            received,
            seen,
            reply,
            self.call_window,
            f"{source}:{self.name or self.outcome}",
        )


def decide(
    rule_sets: Sequence[tuple[str, Sequence[Rule]]],
    phone_norm: str,
    rng_key: str,
    behaviours: Behaviours,
) -> Behaviour:
    """The first matching rule of the first set that has one, else the random default."""
    for source, rules in rule_sets:
        for rule in rules:
            if rule.matches(phone_norm):
                return rule.behaviour(source)
    return random_behaviour(unit_draws(rng_key), behaviours)


def unit_draws(key: str) -> list[float]:
    """Four reproducible numbers in [0, 1) from a key: a hash, cheaper than seeding a PRNG
    for every consent (this runs on every RequestConsent)."""
    digest = hashlib.blake2b(key.encode(), digest_size=32).digest()
    return [int.from_bytes(digest[i : i + 8], "big") / 2**64 for i in range(0, 32, 8)]


def random_behaviour(draws: Sequence[float], odds: Behaviours) -> Behaviour:
    def draw(unit: float, bounds: tuple[int, int]) -> int:
        low, high = bounds
        return (low + int(unit * (high - low + 1))) * 1000  # whole seconds

    received = draw(draws[0], odds.receive_delay_s)
    seen = received + draw(draws[1], odds.see_delay_s)
    reply = seen + draw(draws[2], odds.reply_delay_s)
    roll = draws[3]
    if roll < odds.p_agree:
        return Behaviour(AGREE, received, seen, reply)
    if roll < odds.p_agree + odds.p_reject:
        return Behaviour(REJECT, received, seen, reply)
    return Behaviour(IGNORE, received, seen, None)
