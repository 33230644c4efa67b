"""No key is ever kept: what the journal records is scrubbed before it is stored.

A key travels in an Authorization header (never recorded) and can come back in a body: the
createShop answer carries a shop's keys, and a client may echo its own key anywhere. So the
request's own bearer key and the control token are replaced wherever they appear, and so is the
value of every field named like a key, in any JSON body (even one cut at the size limit)."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = b"***"
_KEY_FIELDS = re.compile(
    rb'("(?:api_key|shop_key|partner_key|control_token|token|authorization)"\s*:\s*)'
    rb'"(?:[^"\\]|\\.)*"?',
    re.IGNORECASE,
)
_HINTS = (b"key", b"token", b"authorization")


def redact(raw: bytes, secrets: Iterable[bytes]) -> bytes:
    """`raw` with each secret and each key-named field's value masked."""
    for secret in secrets:
        if secret and secret in raw:
            raw = raw.replace(secret, MASK)
    low = raw.lower()  # `in` on plain bytes: far cheaper than a regular expression's search
    if any(hint in low for hint in _HINTS):  # most bodies name no key at all
        raw = _KEY_FIELDS.sub(rb'\1"***"', raw)
    return raw


class Redactions:
    """`redact`, remembering its results for large bodies sent again as the same object (a
    kept list answer, http/list_answers.py): scanning 60 KB for keys costs more than the rest
    of such a request. Each remembered body is held, so its id cannot be reused while kept."""

    def __init__(self, size: int = 32, smallest: int = 4096) -> None:
        self.size = size
        self.smallest = smallest
        self._seen: dict[int, tuple[bytes, tuple[bytes, ...], bytes]] = {}

    def __call__(self, raw: bytes, secrets: tuple[bytes, ...]) -> bytes:
        if len(raw) < self.smallest:
            return redact(raw, secrets)
        seen = self._seen.get(id(raw))
        if seen is not None and seen[0] is raw and seen[1] == secrets:
            return seen[2]
        masked = redact(raw, secrets)
        self._seen.pop(id(raw), None)
        self._seen[id(raw)] = (raw, secrets, masked)
        if len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]  # the oldest
        return masked


def bearer(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The key of a request's `Authorization: Bearer <key>` header, or b""."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, key = value.partition(b" ")
            return key.strip() if scheme.lower() == b"bearer" else value.strip()
    return b""
