"""Live-mode safety, enforced on every request the kit sends (see gateway.py).

Against a live target (any host but loopback, or one the user marks live) a request runs only if
it is a read operation of the spec, or a write the user allowed (`--allow-writes`) that carries
one of the user's test phones. A request cap (by default on live targets only) ends the run.
"""

from __future__ import annotations

import threading
import unittest
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import orjson

from mock_server.domain.phones import normalize_phone

if TYPE_CHECKING:
    from contract_tests.specfacts import SpecFacts


class LiveWriteRefused(Exception):
    """A write the live-mode rules do not allow; it was not sent."""


class RequestCapReached(unittest.SkipTest):
    """The request cap is spent. A skip, so that the run ends cleanly (Hypothesis re-raises it
    at once instead of shrinking)."""


class Guard:
    def __init__(
        self,
        facts: SpecFacts,
        live: bool,
        allow_writes: bool = False,
        test_phones: Collection[str] = (),
        max_requests: int | None = None,
    ) -> None:
        self.live = live
        self.allow_writes = allow_writes
        self.test_phones = frozenset(normalize_phone(p) for p in test_phones)
        self.max_requests = max_requests
        self.reads = frozenset(op.path for op in facts.operations if not op.writes)
        self.sent = 0
        self.refused = 0
        self._lock = threading.Lock()

    @property
    def writes_allowed(self) -> bool:
        """Whether writes may run at all: always on local targets; on live ones with permission."""
        return not self.live or (self.allow_writes and bool(self.test_phones))

    @property
    def exhausted(self) -> bool:
        return self.max_requests is not None and self.sent >= self.max_requests

    def refusal(self, method: str, path: str, body: bytes) -> str | None:
        """Why the live rules refuse this request, or None."""
        if not self.live or path in self.reads:
            return None
        # Anything that is not a documented read (a write, an unknown path) is treated as a write.
        if not self.writes_allowed:
            return (
                f"{method} {path} writes to a live API: it runs only with --allow-writes "
                "and at least one --test-phone"
            )
        phone = _phone_of(body)
        if phone is None or normalize_phone(phone) not in self.test_phones:
            return (
                f"{method} {path} writes to a live API with phone {phone!r}, "
                "which is not one of the --test-phone numbers"
            )
        return None

    def admit(self, method: str, path: str, body: bytes) -> None:
        """Count a request about to be sent, or raise: the request is then not sent."""
        refusal = self.refusal(method, path, body)
        if refusal is not None:
            with self._lock:
                self.refused += 1
            raise LiveWriteRefused(f"not sent: {refusal}")
        with self._lock:
            if self.exhausted:
                raise RequestCapReached(
                    f"request cap reached: {self.max_requests} requests sent (--max-requests)"
                )
            self.sent += 1


def _phone_of(body: bytes) -> str | None:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    phone = data.get("phone") if isinstance(data, dict) else None
    return phone if isinstance(phone, str) else None
