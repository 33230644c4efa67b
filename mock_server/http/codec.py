"""The wire API's codec: JSON bodies (already checked by the spec) to the domain's typed
requests, and records back to JSON: int64 as strings, RFC 3339 times, zero values, null for
unset times."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson

from mock_server.domain import states
from mock_server.domain.check import Answer
from mock_server.domain.errors import InvalidField
from mock_server.domain.ids import INT64_MAX
from mock_server.domain.model import Consent, ConsentRow, Shop, consent_of
from mock_server.domain.paging import Page, PageRequest
from mock_server.domain.requests import (
    CheckRequest,
    ConsentFilter,
    ConsentRequest,
    ListRequest,
    PagingInput,
    WebhookTarget,
)
from mock_server.domain.timefmt import clamp, format_rfc3339, parse_rfc3339
from mock_server.services.shops import OAView

Body = Mapping[str, Any]


def to_int64(value: Any, field: str) -> int:
    """An int64 as the backend reads it: a decimal string, a number, or null (zero)."""
    if value is None or value == "":
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidField(field, f"must be an int64 (got {value!r:.60})") from None
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise InvalidField(field, f"is out of the int64 range (got {value})")
    return number


def to_instant(value: str, field: str) -> int:
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise InvalidField(
            field, f"must be an RFC 3339 date-time in years 1 to 9999 ({exc})"
        ) from None


def time_or_none(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms)


def consent_to_wire(c: Consent) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "shop_id": str(c.shop_id),
        "user_id": str(c.user_id),
        "oa_id": str(c.oa_id),
        "phone": c.phone,
        "call_type": c.call_type,
        "reason_code": c.reason_code,
        "status": c.status,
        "reply_status": c.reply_status,
        "delivery_status": c.delivery_status,
        "delivery_time": time_or_none(c.delivery_time),
        "is_charged": c.is_charged,
        "error_code": c.error_code,
        "error_message": c.error_message,
        "expires_at": time_or_none(c.expires_at),
        "created_at": format_rfc3339(c.created_at),
        "updated_at": format_rfc3339(c.updated_at),
    }


class EncodedConsents:
    """Encoded consents kept by their stored values (lists repeat pages a lot), within a byte
    budget that counts what each entry holds: the oldest go first. (First in, first out: a hit
    is one lookup; moving each hit to the end, for least-recently-used order, cost a list page
    about 5 % of its CPU.)"""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.size = 0
        # Ordered, for the oldest in O(1): a plain dict must skip every slot deleted before it.
        self._items: OrderedDict[ConsentRow, orjson.Fragment] = OrderedDict()
        self._sizes: dict[ConsentRow, int] = {}

    def get(self, row: ConsentRow) -> orjson.Fragment:
        """The JSON of the consent a stored row holds."""
        found = self._items.get(row)
        if found is not None:
            return found
        consent = consent_of(row)
        # A copy: orjson's own result keeps its whole output buffer (4 KiB or more) alive, so
        # a cache of them would hold ten times the bytes its budget counts.
        raw = bytes(memoryview(orjson.dumps(consent_to_wire(consent))))
        fragment = orjson.Fragment(raw)
        size = _entry_size(row, raw)
        if size <= self.budget:
            self._items[row] = fragment
            self._sizes[row] = size
            self.size += size
            while self.size > self.budget:
                old, _ = self._items.popitem(last=False)
                self.size -= self._sizes.pop(old)
        return fragment


# An entry's objects besides its JSON and its key: the fragment, the bytes' header and a slot in
# each of the two dictionaries.
_ENTRY_OVERHEAD = 200


def _entry_size(row: ConsentRow, raw: bytes) -> int:
    """What an entry keeps alive: its JSON, and its key (the stored values, no longer held by
    anything else once the page is sent), so the budget bounds the memory, not only the JSON."""
    return len(raw) + sys.getsizeof(row) + sum(map(sys.getsizeof, row)) + _ENTRY_OVERHEAD


class WireCodec:
    """Decoding needs the spec's zero values (an unset enum filter); encoding a byte budget."""

    def __init__(self, zero_values: Mapping[str, str], cache_bytes: int) -> None:
        self.zero_values = dict(zero_values)
        self.encoded = EncodedConsents(cache_bytes)

    # Wire -> domain
    def consent_request(self, body: Body) -> ConsentRequest:
        return ConsentRequest(
            oa_id=to_int64(body["oa_id"], "oa_id"),
            phone=body["phone"],
            call_type=body["call_type"],
            reason_code=body["reason_code"],
        )

    def list_request(self, body: Body) -> ListRequest:
        where = body.get("filter") or {}
        paging = body.get("paging") or {}

        def enum(name: str, schema: str) -> str | None:
            value = where.get(name)
            return None if value in (None, "", self.zero_values[schema]) else str(value)

        def instant(name: str) -> int | None:
            value = where.get(name)
            # Clamped: beyond the sandbox's time, a bound filters like its edge.
            return clamp(to_instant(value, f"filter.{name}")) if value else None

        return ListRequest(
            filter=ConsentFilter(
                oa_id=to_int64(where.get("oa_id"), "filter.oa_id") or None,
                user_id=to_int64(where.get("user_id"), "filter.user_id") or None,
                phone=where.get("phone") or None,
                call_type=enum("call_type", "CallType"),
                reason_code=enum("reason_code", "ReasonCode"),
                status=enum("status", "Status"),
                reply_status=enum("reply_status", "ReplyStatus"),
                is_charged=where.get("is_charged"),
                date_from=instant("date_from"),
                date_to=instant("date_to"),
            ),
            paging=PagingInput(
                after=paging.get("after") or "",
                before=paging.get("before") or "",
                # JSON Schema counts 47.0 as an integer: make it one.
                limit=int(paging["limit"]) if paging.get("limit") is not None else None,
                sort=paging.get("sort") or "",
            ),
        )

    def check_request(self, body: Body) -> CheckRequest:
        return CheckRequest(oa_id=to_int64(body["oa_id"], "oa_id"), phone=body["phone"])

    def webhook_target(self, body: Body) -> WebhookTarget:
        return WebhookTarget(
            oa_id=to_int64(body["oa_id"], "oa_id"), url=body.get("webhook_url") or None
        )

    # Domain -> wire
    def consent(self, consent: Consent) -> dict[str, Any]:
        return consent_to_wire(consent)

    def page(self, page: Page[ConsentRow], request: PageRequest) -> dict[str, Any]:
        """The ListRequestConsent answer; consents come pre-encoded."""
        return {
            "consents": [self.encoded.get(row) for row in page.items],
            "paging": {
                "after": request.after or ("" if request.before else "."),
                "before": request.before,
                "limit": request.limit,
                "next": page.next,
                "prev": page.prev,
                "sort": request.sort,
            },
        }

    def oa(self, view: OAView) -> dict[str, Any]:
        return {"oa_id": str(view.oa_id), "name": view.name, "webhook_url": view.webhook_url}

    def account(self, shop: Shop) -> dict[str, Any]:
        """eTop's PublicAccountInfo of the shop."""
        return {
            "id": str(shop.shop_id),
            "name": shop.name,
            "type": states.ACCOUNT_SHOP,
            "image_url": "",
            "website": "",
        }

    def check(self, answer: Answer, message: str) -> dict[str, Any]:
        return {
            "error": answer.error,
            "message": message,
            "expired_time": time_or_none(answer.expired_time),
        }
