"""Deterministic identifiers: the same seed and requests give the same ids."""

from __future__ import annotations

import hashlib

INT64_MAX = 2**63 - 1
# Consent ids count up from here, so they look like the 19-digit ids eTelecom returns.
CONSENT_ID_BASE = 1 << 60


def user_id_for(oa_id: int, phone_norm: str) -> int:
    """A stable Zalo user id for a phone as seen by one OA (Zalo ids are per OA)."""
    digest = hashlib.blake2b(f"{oa_id}:{phone_norm}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") & INT64_MAX) | (1 << 62)


def secret_for(seed: int, purpose: str, length: int = 24) -> str:
    """A seeded secret (keys, cursor signing): random-looking, reproducible."""
    return hashlib.blake2b(f"{seed}:{purpose}".encode(), digest_size=length).hexdigest()[:length]


def oa_id_for(seed: int, shop_id: int, index: int = 0) -> int:
    """A made-up 19-digit Official Account id for a shop that did not bring its own."""
    digest = hashlib.blake2b(f"{seed}:oa:{shop_id}:{index}".encode(), digest_size=8).digest()
    return 10**18 + int.from_bytes(digest, "big") % (8 * 10**18)
