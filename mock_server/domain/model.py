"""The records the sandbox keeps: shops and consent requests."""

from __future__ import annotations

import operator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Shop:
    shop_id: int
    api_key: str
    shop_key: str
    oa_ids: tuple[int, ...]


@dataclass(slots=True)
class Consent:
    """One RequestConsent, as stored. Times are epoch milliseconds; None is unset."""

    id: int
    shop_id: int
    user_id: int
    oa_id: int
    phone: str
    phone_norm: str  # 84xxxxxxxxx: what phone filters match on
    call_type: str
    reason_code: str
    status: str
    reply_status: str
    delivery_status: str
    delivery_time: int | None
    is_charged: bool
    error_code: int
    error_message: str
    expires_at: int | None
    created_at: int
    updated_at: int


# Column order shared by the stores (and the SQLite schema).
CONSENT_FIELDS: tuple[str, ...] = Consent.__slots__


_ROW = operator.attrgetter(*CONSENT_FIELDS)


def as_row(consent: Consent) -> tuple[object, ...]:
    """The values in CONSENT_FIELDS order (dataclasses.astuple would deep-copy them)."""
    row: tuple[object, ...] = _ROW(consent)
    return row
