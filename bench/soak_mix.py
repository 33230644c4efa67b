"""What the soak's client threads send, in turn: RequestConsent with a new phone each time,
CheckConsent and ListRequestConsent on phones requested earlier, list pages with filters and
cursors (forwards with `next`, back with `prev`), and ListOA. Enum values come from the spec."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mock_server.settings import Settings
from mock_server.spec import SpecDocument

DEMO = Settings()
OA = str(DEMO.demo_oa_ids[0])
WIRE = "/v1/shop.Zalo/"
# Ten calls per turn: 3 RequestConsent, 3 ListRequestConsent, 3 CheckConsent, 1 ListOA.
TURN = (
    "request",
    "list",
    "check",
    "request",
    "check",
    "list",
    "list_oa",
    "request",
    "list",
    "check",
)
PAGES = 5  # a cursor walk goes this many pages forward before it starts again
FIRST_PHONE = 960_000_000  # 0960000000 on: far from the magic phones (09000000xx)


@dataclass(frozen=True)
class Call:
    operation: str
    path: str
    body: dict[str, Any]
    phone: str = ""  # the phone a RequestConsent asked (remembered once it succeeds)
    walk: bool = False  # a cursor walk's page: its `next` and `prev` are kept


class Shared:
    """What the threads share: the phone counter, phones asked so far, the clock's `now`."""

    def __init__(self, spec: SpecDocument, now: str) -> None:
        self.numbers = itertools.count(FIRST_PHONE)  # next() is atomic under the GIL
        self.phones: deque[str] = deque(["0912345678"], maxlen=200)
        self.now = now  # set by the clock thread after every move
        self.lock = threading.Lock()
        self.call_types = spec.enum("CallType")
        self.reasons = spec.enum("ReasonCode")
        self.statuses = spec.enum("Status")
        self.replies = spec.enum("ReplyStatus")
        self.sorts = spec.enum("SortField")

    def recent(self, n: int) -> str:
        with self.lock:
            return self.phones[-1 - n % len(self.phones)]

    def asked(self, phone: str) -> None:
        with self.lock:
            self.phones.append(phone)


class Mix:
    """One client thread's calls, in a fixed order (so a run is repeatable)."""

    def __init__(self, shared: Shared, thread: int) -> None:
        self.shared = shared
        self.n = thread
        self.after = ""  # the cursor walk's next page ("" to start again)
        self.before = ""  # its last page's `prev`
        self.sort = ""  # the walk's order (a cursor belongs to one)
        self.pages = 0

    def calls(self) -> Iterator[Call]:
        for kind in itertools.cycle(TURN):
            self.n += 1
            if kind == "request":
                yield self._request()
            elif kind == "check":
                body = {"oa_id": OA, "phone": self.shared.recent(self.n)}
                yield Call("CheckConsent", WIRE + "CheckConsent", body)
            elif kind == "list":
                yield self._list()
            else:
                yield Call("ListOA", WIRE + "ListOA", {})

    def walked(self, answer: dict[str, Any]) -> None:
        """A cursor walk's page came back: go on from it, or start again after PAGES."""
        paging = answer.get("paging") or {}
        self.pages += 1
        self.after = "" if self.pages >= PAGES else str(paging.get("next") or "")
        self.before = str(paging.get("prev") or "")
        if not self.after:
            self.pages = 0

    def _request(self) -> Call:
        s = self.shared
        phone = f"0{next(s.numbers)}"
        body = {
            "oa_id": OA,
            "phone": phone,
            "call_type": s.call_types[self.n % len(s.call_types)],
            "reason_code": s.reasons[self.n % len(s.reasons)],
        }
        return Call("RequestConsent", WIRE + "RequestConsent", body, phone=phone)

    def _list(self) -> Call:
        s = self.shared
        path = WIRE + "ListRequestConsent"
        variant = (self.n // len(TURN)) % 5
        if variant == 0:  # one phone's consents
            body: dict[str, Any] = {"filter": {"phone": s.recent(self.n)}, "paging": {"limit": 20}}
        elif variant == 1:  # by status and reply
            status = s.statuses[self.n % len(s.statuses)]
            reply = s.replies[self.n % len(s.replies)]
            body = {"filter": {"status": status, "reply_status": reply}, "paging": {"limit": 20}}
        elif variant == 2:  # the last six virtual hours, one call type
            now = datetime.fromisoformat(s.now.replace("Z", "+00:00"))
            since = (now - timedelta(hours=6)).isoformat().replace("+00:00", "Z")
            call_type = s.call_types[self.n % len(s.call_types)]
            where = {"date_from": since, "date_to": s.now, "call_type": call_type}
            body = {"filter": where, "paging": {"limit": 50}}
        elif variant == 3 and self.before and self.pages:  # back one page
            body = {"paging": {"limit": 50, "before": self.before, "sort": self.sort}}
            return Call("ListRequestConsent", path, body, walk=True)
        else:  # a walk: the first page in one order, then `next` for PAGES pages
            if not self.after:
                self.sort = s.sorts[(self.n // PAGES) % len(s.sorts)]
            body = {"paging": {"limit": 50, "after": self.after or ".", "sort": self.sort}}
            return Call("ListRequestConsent", path, body, walk=True)
        return Call("ListRequestConsent", path, body)
