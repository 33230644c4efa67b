"""Two fresh shops on a sandbox, for the listing checks: the shop under test, with two OAs, and
a neighbour that shares one OA and the phones, whose consents must never show in the first."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from contract_tests.client import WireClient
from contract_tests.model import IMMUTABLE, check_listing, phone_forms
from contract_tests.session import Kit

# OA ids handed to the shops made here; the sandbox lets two shops share one.
_oa_ids = itertools.count(8_100_000_000_000_000_001)


class TwoShops:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.oas = [str(next(_oa_ids)), str(next(_oa_ids))]
        shop = kit.control.create_shop(oa_ids=self.oas)
        other = kit.control.create_shop(oa_ids=self.oas[:1])
        self.shop_id = shop["shop_id"]
        self.shop: WireClient = kit.wire.for_shop(shop)
        self.other: WireClient = kit.wire.for_shop(other)
        self.created: dict[str, dict[str, Any]] = {}  # id -> RequestConsent's answer
        self.foreign: set[str] = set()

    def body(self, phone: str, form: int, call: int, reason: int, oa: int) -> dict[str, Any]:
        """A RequestConsent body; the numbers pick values (modulo) from the spec's enums."""
        facts = self.kit.facts
        calls = facts.listed_values(facts.schemas["CallType"]) or []
        reasons = facts.listed_values(facts.schemas["ReasonCode"]) or []
        return {
            "oa_id": self.oas[oa % 2],
            "phone": phone_forms(phone)[form % 3],
            "call_type": calls[call % len(calls)],
            "reason_code": reasons[reason % len(reasons)],
        }

    def request(self, body: dict[str, Any], partner: bool = False) -> dict[str, Any]:
        created: dict[str, Any] = self.shop.call("RequestConsent", body, partner)
        sent = {**body, "shop_id": self.shop_id}
        for name in ("shop_id", "oa_id", "call_type", "reason_code"):
            if str(created.get(name)) != str(sent[name]):
                raise AssertionError(
                    f"[RequestConsent] answered {name} {created.get(name)!r} for {sent[name]!r}"
                )
        self.created[created["id"]] = created
        return created

    def request_elsewhere(self, body: dict[str, Any]) -> None:
        self.foreign.add(self.other.call("RequestConsent", body)["id"])

    def read_back(self) -> dict[str, dict[str, Any]]:
        """The whole shop: the consents it made, no others, unchanged where they cannot change.
        Their states are taken from here (they move with time; the clock is frozen meanwhile)."""
        listed = [c for page in self.shop.walk({}) for c in page["consents"]]
        ids = [c["id"] for c in listed]
        strangers = (set(ids) & self.foreign) | {
            c["id"] for c in listed if c.get("shop_id") != self.shop_id
        }
        if strangers:
            raise AssertionError(
                f"[shop isolation] another shop's consents {sorted(strangers)} are listed"
            )
        if len(ids) != len(set(ids)) or set(ids) != set(self.created):
            raise AssertionError(
                f"[paging] the unfiltered listing gives {ids}, the shop made {sorted(self.created)}"
            )
        for consent in listed:
            made = self.created[consent["id"]]
            changed = [name for name in IMMUTABLE if consent.get(name) != made.get(name)]
            if changed:
                raise AssertionError(f"[RequestConsent] consent {consent['id']} changed {changed}")
        return {c["id"]: c for c in listed}

    def check(
        self,
        expected: list[dict[str, Any]],
        filter_: dict[str, Any],
        sort: str,
        asked: int | None,
        partner: bool,
        zeros: dict[str, Any],
    ) -> None:
        """Walk the listing forward and backward; both must be what the model expects, alike."""
        facts = self.kit.facts
        limit = min(asked, facts.max_limit) if asked else facts.default_limit
        body = {"filter": filter_, "paging": {"sort": sort, "limit": asked}}
        walks = {}
        for direction in ("forward", "backward"):
            pages = list(self._pages(body, direction == "backward", partner, len(expected), limit))
            if direction == "backward":
                pages.reverse()
            check_listing(pages, expected, filter_, sort, limit, direction, zeros, self.foreign)
            walks[direction] = [c["id"] for page in pages for c in page]
        if walks["forward"] != walks["backward"]:
            raise AssertionError(
                f"[paging] walking back from before='.' lists {walks['backward']}, walking "
                f"forward lists {walks['forward']} (filter {filter_!r}, sort {sort!r})"
            )

    def _pages(
        self, body: dict[str, Any], backwards: bool, partner: bool, count: int, limit: int
    ) -> Iterator[list[dict[str, Any]]]:
        # A walk that never ends is a paging bug, not a reason to hang.
        most = count // limit + 2
        for number, page in enumerate(self.shop.walk(body, backwards, partner)):
            if number >= most:
                raise AssertionError(
                    f"[paging] more than {most} pages of {limit} for {count} consents ({body!r})"
                )
            yield page["consents"]
