"""Synthetic consents for the benchmark: one shop, created_at strictly increasing.

Every dataset, whatever its size, gives the benchmark phone (HOT_PHONE, the phone the wrk scripts
filter on) exactly HOT_COUNT consents spread evenly over the whole timeline; the rest are spread
round-robin over OTHER_PHONES other phones. So a phone-filtered first page (limit 100) holds the
same 100 items at 1,000 and at 1,000,000 stored, and only the store size changes between the two.
Reply statuses take turns (P, N, NS): a third of any dataset is agreed (LISTED_REPLY, the reply
filter the wrk scripts ask for), spread over the whole timeline, so its first page is full too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from mock_server.domain import states
from mock_server.domain.ids import user_id_for
from mock_server.domain.model import Consent, Shop
from mock_server.domain.phones import normalize_phone

HOT_PHONE = "0912345678"
HOT_COUNT = 200
OTHER_PHONES = 299
STEP_MS = 1_000  # one consent a second, ending a second before the dataset is built
PAGE_LIMIT = 100  # what the wrk scripts ask for
CALL_TYPES = ("audio", "video", "audio_and_video")
REASON_CODES = (
    "product_service_consulting",
    "order_appointment_confirmation",
    "delivery_notification",
    "update_order",
)
REPLY_STATUSES = (states.REPLY_AGREED, states.REPLY_REJECTED, states.REPLY_NO_RESPONSE)
LISTED_REPLY = states.REPLY_AGREED  # the non-phone filter of the list figures (reply_status)


def matching(stored: int, query: str) -> int:
    """How many of `stored` consents a list query matches: "unfiltered", "phone" (HOT_PHONE) or
    "reply_status" (LISTED_REPLY)."""
    if query == "unfiltered":
        return stored
    if query == "phone":
        return min(stored, HOT_COUNT)
    if query == "reply_status":
        return len(range(REPLY_STATUSES.index(LISTED_REPLY), stored, len(REPLY_STATUSES)))
    raise ValueError(f"no list query {query!r} in the benchmark's data sets")


def expected_items(stored: int, query: str) -> int:
    """How many items the first page (limit 100) of a list query over `stored` consents holds."""
    return min(matching(stored, query), PAGE_LIMIT)


def consents(shop: Shop, count: int, end_ms: int | None = None) -> Iterator[Consent]:
    """`count` answered consents for the shop's first OA, oldest first (ids come on insert)."""
    oa_id = shop.oa_ids[0]
    end = time.time_ns() // 1_000_000 - STEP_MS if end_ms is None else end_ms
    start = end - count * STEP_MS
    phones = [f"09{80_000_000 + k:08d}" for k in range(OTHER_PHONES)]
    hot_every = max(1, count // HOT_COUNT)
    by_phone = {
        phone: (normalize_phone(phone), user_id_for(oa_id, normalize_phone(phone)))
        for phone in [HOT_PHONE, *phones]
    }
    hot = 0
    for i in range(count):
        if i % hot_every == 0 and hot < HOT_COUNT:
            phone = HOT_PHONE
            hot += 1
        else:
            phone = phones[i % OTHER_PHONES]
        phone_norm, user_id = by_phone[phone]
        created = start + i * STEP_MS
        yield Consent(
            id=0,
            shop_id=shop.shop_id,
            user_id=user_id,
            oa_id=oa_id,
            phone=phone,
            phone_norm=phone_norm,
            call_type=CALL_TYPES[i % len(CALL_TYPES)],
            reason_code=REASON_CODES[i % len(REASON_CODES)],
            status=states.STATUS_SUCCESS,
            reply_status=REPLY_STATUSES[i % len(REPLY_STATUSES)],
            delivery_status=states.DELIVERY_SEEN,
            delivery_time=created + 2_000,
            is_charged=True,
            error_code=0,
            error_message="",
            expires_at=created + 24 * 3600 * 1000,
            created_at=created,
            updated_at=created + 60_000,
        )
