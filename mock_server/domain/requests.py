"""Typed inputs of the operations: the codec builds them from the wire, already checked, with
int64 ids as ints, instants as epoch ms, phones as sent, and zero values as None."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PagingInput:
    """Paging as sent: empty cursors, no limit (None or 0) and no sort mean the defaults."""

    after: str = ""
    before: str = ""
    limit: int | None = None
    sort: str = ""


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    oa_id: int
    phone: str
    call_type: str
    reason_code: str


@dataclass(frozen=True, slots=True)
class ConsentFilter:
    oa_id: int | None = None
    user_id: int | None = None
    phone: str | None = None
    call_type: str | None = None
    reason_code: str | None = None
    status: str | None = None
    reply_status: str | None = None
    is_charged: bool | None = None
    date_from: int | None = None  # inclusive, epoch ms
    date_to: int | None = None  # exclusive, epoch ms


@dataclass(frozen=True, slots=True)
class ListRequest:
    filter: ConsentFilter
    paging: PagingInput


@dataclass(frozen=True, slots=True)
class CheckRequest:
    oa_id: int
    phone: str


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    oa_id: int
    url: str | None  # None removes the target


@dataclass(frozen=True, slots=True)
class NewShop:
    """What a caller chose for a new shop; the rest is made up from the seed."""

    shop_id: int | None = None
    api_key: str | None = None
    shop_key: str | None = None
    oa_ids: tuple[int, ...] = ()
    name: str | None = None
    oa_names: tuple[str | None, ...] = ()  # by position in oa_ids; None: made up


@dataclass(frozen=True, slots=True)
class ClockMove:
    set_ms: int | None = None
    advance_ms: int | None = None
    rate: float | None = None


@dataclass(frozen=True, slots=True)
class Force:
    consent_id: int
    action: str
