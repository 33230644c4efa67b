"""Coverage read from what the store keeps: the outcome of each consent, and the misuse a shop's
requests show when they are set side by side (asking again while a request waits, asking a
phone whose agreement still runs, a burst to one phone). Nothing here costs a request anything.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from mock_server.domain import coverage, states
from mock_server.domain.coverage import ConsentExample, Mark
from mock_server.domain.model import Consent


@dataclass(frozen=True)
class Burst:
    """More than `requests` requests to one phone within `window_ms` (virtual time) is a burst."""

    requests: int = 3
    window_ms: int = 60_000


@dataclass
class _Phone:
    """What came before, for one (OA, phone), in creation order: until when some request that
    went out was waiting, and the agreements that may still run."""

    waiting_until: float = -math.inf
    agreements: list[Consent] = field(default_factory=list)

    def add(self, b: Consent) -> None:
        """A request that went out. A final one's `updated_at` is the instant it became final
        (nothing changes it afterwards); one still waiting waits past any instant read."""
        waiting = b.reply_status == states.REPLY_WAITING
        self.waiting_until = max(self.waiting_until, math.inf if waiting else b.updated_at)
        if b.reply_status == states.REPLY_AGREED and b.expires_at is not None:
            self.agreements.append(b)

    def waiting_at(self, at: int) -> bool:
        return at < self.waiting_until

    def agreed_at(self, at: int) -> bool:
        """Whether an agreement ran at `at` (instants only grow: the ended ones go)."""
        self.agreements = [
            b for b in self.agreements if b.expires_at is not None and at < b.expires_at
        ]
        return any(b.updated_at <= at for b in self.agreements)


@dataclass
class ConsentReading:
    """Reads a shop's consents oldest first (in id order) and marks what they show."""

    failure_codes: frozenset[int]
    duplicate_code: int
    burst: Burst
    now: int
    since: int = 0  # consents up to this id were made before the last reset: they do not count
    marks: dict[str, Mark] = field(default_factory=dict)
    _phones: dict[tuple[int, str], _Phone] = field(default_factory=dict)
    _recent: dict[str, deque[int]] = field(default_factory=dict)

    def read(self, consents: Iterable[Consent]) -> None:
        for c in consents:
            self._one(c)

    def _mark(self, item: str, c: Consent) -> None:
        self.marks.setdefault(item, Mark()).add(1, ConsentExample(c.id))

    def _one(self, c: Consent) -> None:
        counts = c.id > self.since
        phone = self._phones.setdefault((c.oa_id, c.phone_norm), _Phone())
        if counts:
            for item in _outcomes(c, self.now, self.failure_codes, self.duplicate_code):
                self._mark(item, c)
            self._misuse(c, phone)
        if c.status == states.STATUS_SUCCESS:
            phone.add(c)
        recent = self._recent.setdefault(c.phone_norm, deque())
        recent.append(c.created_at)
        while recent and recent[0] <= c.created_at - self.burst.window_ms:
            recent.popleft()
        if counts and len(recent) > self.burst.requests:
            self._mark(coverage.misuse_item(coverage.BURST), c)

    def _misuse(self, c: Consent, phone: _Phone) -> None:
        if phone.waiting_at(c.created_at):
            self._mark(coverage.misuse_item(coverage.ASK_WHILE_WAITING), c)
        if phone.agreed_at(c.created_at):
            self._mark(coverage.misuse_item(coverage.ASK_WHILE_AGREED), c)


def _outcomes(c: Consent, now: int, failures: frozenset[int], duplicate: int) -> list[str]:
    if c.status == states.STATUS_FAILURE:
        found = [coverage.failed(c.error_code)] if c.error_code in failures else []
        return [*found, coverage.DUPLICATE] if c.error_code == duplicate else found
    if c.reply_status == states.REPLY_AGREED:
        ended = c.expires_at is not None and c.expires_at <= now
        return [coverage.AGREED, coverage.AGREEMENT_EXPIRED] if ended else [coverage.AGREED]
    if c.reply_status == states.REPLY_REJECTED:
        return [coverage.REJECTED]
    if c.reply_status == states.REPLY_NO_RESPONSE:
        return [coverage.NO_RESPONSE]
    return []
