"""What the load runs send: a wrk Lua script (bench/<script>) and, for the check request made
before each run, the same request in Python."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dataset
from mock_server.settings import Settings

API_KEY = Settings().demo_api_key  # common.lua sends the same key


@dataclass(frozen=True)
class Workload:
    operation: str
    # RequestConsent: "" or "distinct phones"; the list: "phone", "reply_status" or "unfiltered"
    # (dataset.matching knows how many consents each matches)
    query: str
    script: str  # bench/<script>: sets the same method, body and headers for wrk
    path: str
    body: dict[str, Any]

    @property
    def is_list(self) -> bool:
        return self.operation == "ListRequestConsent"


REQUEST_CONSENT = Workload(
    "RequestConsent",
    "",
    "request_consent.lua",
    "/v1/shop.Zalo/RequestConsent",
    {
        "oa_id": "1234567890123456789",
        "phone": dataset.HOT_PHONE,
        "call_type": "audio",
        "reason_code": "update_order",
    },
)
# The same call with a new phone each time (the script varies it; the check uses its own phone):
# the figure without the duplicate-of-a-waiting-request path the fixed phone exercises.
REQUEST_CONSENT_DISTINCT = Workload(
    "RequestConsent",
    "distinct phones",
    "request_consent_distinct.lua",
    "/v1/shop.Zalo/RequestConsent",
    {**REQUEST_CONSENT.body, "phone": "0960000001"},
)
LIST_BY_PHONE = Workload(
    "ListRequestConsent",
    "phone",
    "list_by_phone.lua",
    "/v1/shop.Zalo/ListRequestConsent",
    {"filter": {"phone": dataset.HOT_PHONE}, "paging": {"limit": dataset.PAGE_LIMIT}},
)
LIST_FIRST_PAGE = Workload(
    "ListRequestConsent",
    "unfiltered",
    "list_first_page.lua",
    "/v1/shop.Zalo/ListRequestConsent",
    {"paging": {"limit": dataset.PAGE_LIMIT}},
)
LIST_BY_REPLY_STATUS = Workload(
    "ListRequestConsent",
    "reply_status",
    "list_by_reply_status.lua",
    "/v1/shop.Zalo/ListRequestConsent",
    {"filter": {"reply_status": dataset.LISTED_REPLY}, "paging": {"limit": dataset.PAGE_LIMIT}},
)
# The list queries of the scaling figure, each a first page (limit 100) newest first, and how
# the report names them.
LIST_QUERIES = (LIST_FIRST_PAGE, LIST_BY_PHONE, LIST_BY_REPLY_STATUS)
LIST_NAMES = {
    "unfiltered": "first page (no filter)",
    "phone": "phone filter",
    "reply_status": "reply_status filter",
}
