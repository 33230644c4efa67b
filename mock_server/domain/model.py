"""The records the sandbox keeps: shops, consent requests and webhook deliveries."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from mock_server.domain.errors import NotOwned


@dataclass(frozen=True, slots=True)
class OfficialAccount:
    """A Zalo Official Account of a shop (its webhook target is kept apart: it changes)."""

    oa_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Shop:
    shop_id: int
    api_key: str
    shop_key: str
    oas: tuple[OfficialAccount, ...]
    name: str = ""

    @property
    def oa_ids(self) -> tuple[int, ...]:
        return tuple(oa.oa_id for oa in self.oas)

    def oa(self, oa_id: int) -> OfficialAccount:
        """One of the shop's OAs; `NotOwned` for any other id."""
        for oa in self.oas:
            if oa.oa_id == oa_id:
                return oa
        raise NotOwned(f"oa_id {oa_id} is not an Official Account of this shop", "oa_id")


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
# What a consent's life changes once it is made (lifecycle.apply, fail_at_once); the rest (who,
# what, when made) never changes. Stores rewrite only these, so SQLite leaves alone the indexes
# on the others (the phone's, the creation order's): half the pages an event's update dirties.
CHANGING_FIELDS = (
    "status",
    "reply_status",
    "delivery_status",
    "delivery_time",
    "is_charged",
    "error_code",
    "error_message",
    "expires_at",
    "updated_at",
)
changing_values = operator.attrgetter(*CHANGING_FIELDS)


# A consent's stored values in CONSENT_FIELDS order, as a store reads them (is_charged may come
# as 0 or 1): hashable, so a page's encoded consents are cached by it with no object made.
ConsentRow = tuple[object, ...]
FIELD_AT = {name: at for at, name in enumerate(CONSENT_FIELDS)}


def as_row(consent: Consent) -> ConsentRow:
    """The values in CONSENT_FIELDS order (dataclasses.astuple would deep-copy them)."""
    row: ConsentRow = _ROW(consent)
    return row


def consent_of(row: ConsentRow) -> Consent:
    """The consent a stored row holds."""
    consent = Consent(*row)  # type: ignore[arg-type]
    consent.is_charged = bool(consent.is_charged)
    return consent


PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
OUTBOX_STATES = (PENDING, DELIVERED, FAILED)


@dataclass(frozen=True)
class Attempt:
    at: float  # wall clock, seconds
    status: int | None  # HTTP status, None when no answer came
    error: str
    fault: str = ""  # the id of the fault rule that touched this attempt


@dataclass
class OutboxEntry:
    """One webhook event waiting to be POSTed (or done with). Wall-clock times, in seconds."""

    id: int
    shop_id: int
    oa_id: int
    url: str
    payload: str  # JSON, encoded once so every attempt sends the same bytes
    state: str = PENDING
    attempts: int = 0
    next_attempt: float = 0.0
    log: list[Attempt] = field(default_factory=list)
    consent_id: int = 0  # the consent whose change caused it (0: not known)


@dataclass(frozen=True, slots=True)
class Happening:
    """A step of a consent's life that took place: an event applied at a virtual instant."""

    consent_id: int
    at: int  # epoch ms
    kind: str  # received | seen | reply | deadline (lifecycle's event kinds)
    value: str = ""  # reply: P or N
    forced: bool = False  # made by forceConsent rather than planned
