"""How records look on the wire: int64 as strings, RFC 3339 times, null for unset times."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from mock_server.domain.check import Answer
from mock_server.domain.model import Consent, as_row
from mock_server.domain.paging import Page, PageRequest
from mock_server.domain.timefmt import format_rfc3339


def _time(ms: int | None) -> str | None:
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
        "delivery_time": _time(c.delivery_time),
        "is_charged": c.is_charged,
        "error_code": c.error_code,
        "error_message": c.error_message,
        "expires_at": _time(c.expires_at),
        "created_at": format_rfc3339(c.created_at),
        "updated_at": format_rfc3339(c.updated_at),
    }


@lru_cache(maxsize=65536)
def _encoded(row: tuple[object, ...]) -> orjson.Fragment:
    # Keyed by every stored value, so a hit is the same consent in the same state, whichever
    # sandbox or store it came from; a change of any field is a new key.
    return orjson.Fragment(orjson.dumps(consent_to_wire(Consent(*row))))  # type: ignore[arg-type]


def page_to_wire(page: Page, request: PageRequest) -> dict[str, Any]:
    """The ListRequestConsent answer; consents come pre-encoded (lists repeat pages a lot)."""
    return {
        "consents": [_encoded(as_row(c)) for c in page.items],
        "paging": {
            "after": request.after or ("" if request.before else "."),
            "before": request.before,
            "limit": request.limit,
            "next": page.next,
            "prev": page.prev,
            "sort": request.sort,
        },
    }


def check_to_wire(answer: Answer, message: str) -> dict[str, Any]:
    return {"error": answer.error, "message": message, "expired_time": _time(answer.expired_time)}
