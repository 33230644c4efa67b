"""A fresh shop on a sandbox, whose consents the lifecycle suite follows over virtual time
through the wire API (and the control API's clock and force).

Every read of a consent is also held to what a consent keeps whatever its customer does: what
RequestConsent fixed never changes, `updated_at` moves exactly when the state does, and once
the reply is final nothing changes any more. Failure messages start with the rule broken:
[lifecycle <phone>], [updated_at], [final reply], [CheckConsent], [RequestConsent].
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contract_tests.bodies import valid_body
from contract_tests.model import IMMUTABLE, instant
from contract_tests.session import Kit
from mock_server.domain.model import CHANGING_FIELDS
from mock_server.domain.phones import normalize_phone

WAITING = "S"  # the one reply_status a consent can still leave


def check_code(kit: Kit, meaning: str) -> int:
    """The spec's CheckConsentCode for a meaning ("approved", "request sent", …)."""
    messages: dict[str, str] = kit.facts.schemas["CheckConsentCode"]["x-messages"]
    return next(int(code) for code, text in messages.items() if text == meaning)


def same(actual: Any, expected: Any) -> bool:
    """Instants compare as instants (any RFC 3339 spelling), the rest as they are."""
    if isinstance(expected, datetime):
        return isinstance(actual, str) and instant(actual) == expected
    return bool(actual == expected) and type(actual) is type(expected)


def shown(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else repr(value)


class FollowedShop:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.wire = kit.wire.for_shop(kit.control.create_shop())
        self.oa_id = self.wire.oa_id
        self.made: dict[str, dict[str, Any]] = {}  # id -> RequestConsent's answer
        self.last: dict[str, dict[str, Any]] = {}  # id -> the consent as last read

    def request(self, phone: str) -> dict[str, Any]:
        op = self.kit.facts.operation("RequestConsent")
        made: dict[str, Any] = self.wire.call(
            "RequestConsent", {**valid_body(self.kit, op), "oa_id": self.oa_id, "phone": phone}
        )
        self.made[made["id"]] = self.last[made["id"]] = made
        return made

    def advance(self, step: str) -> None:
        self.kit.control.move_clock(advance=step)

    def read(self, consent: dict[str, Any]) -> dict[str, Any]:
        """The consent as ListRequestConsent shows it now, checked against the last read."""
        page = self.wire.call("ListRequestConsent", {"filter": {"phone": consent["phone"]}})
        found = [c for c in page["consents"] if c.get("id") == consent["id"]]
        if len(found) != 1:
            raise AssertionError(
                f"[lifecycle {consent['phone']}] consent {consent['id']} is listed "
                f"{len(found)} times when filtering by its phone"
            )
        now: dict[str, Any] = found[0]
        self._keeps_rules(self.last[consent["id"]], now)
        self.last[consent["id"]] = now
        return now

    def expect(self, consent: dict[str, Any], **expected: Any) -> dict[str, Any]:
        """Read the consent; each named field must have the expected value."""
        now = self.read(consent)
        self.expect_fields(now, "listed", **expected)
        return now

    def expect_fields(self, consent: dict[str, Any], seen: str, **expected: Any) -> None:
        wrong = [name for name, value in expected.items() if not same(consent.get(name), value)]
        if wrong:
            details = ", ".join(
                f"{name} {consent.get(name)!r}, expected {shown(expected[name])}" for name in wrong
            )
            raise AssertionError(
                f"[lifecycle {consent['phone']}] consent {consent['id']} {seen} "
                f"{self._age(consent)}: {details}"
            )

    def expect_check(
        self, phone: str, meaning: str, expired_time: datetime | None = None
    ) -> dict[str, Any]:
        """CheckConsent for `phone` answers the spec's code for `meaning` (and, if given, the
        instant the consent or the pending request expires)."""
        code = check_code(self.kit, meaning)
        answer: dict[str, Any] = self.wire.call(
            "CheckConsent", {"oa_id": self.oa_id, "phone": phone}
        )
        if answer.get("error") != code:
            states = [
                {name: c.get(name) for name in ("id", "status", "reply_status", "delivery_status")}
                for c in self.last.values()
                if normalize_phone(c["phone"]) == normalize_phone(phone)
            ]
            raise AssertionError(
                f"[CheckConsent] {phone}: error {answer.get('error')!r} "
                f"({answer.get('message')!r}), expected {code} ({meaning}); its consents, as "
                f"last listed: {states}"
            )
        if expired_time is not None and not same(answer.get("expired_time"), expired_time):
            raise AssertionError(
                f"[CheckConsent] {phone} ({meaning}): expired_time "
                f"{answer.get('expired_time')!r}, expected {shown(expired_time)}"
            )
        return answer

    def refuse(self, consent: dict[str, Any], action: str) -> None:
        """A consent whose reply is final cannot be made to act again: 412 failed_precondition,
        and the consent stays as it was."""
        before = self.last[consent["id"]]
        response = self.kit.control.force(consent["id"], action)
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            code = None
        if response.status_code != 412 or code != "failed_precondition":
            raise AssertionError(
                f"[final reply] consent {consent['id']} ({consent['phone']}) is final "
                f"(reply_status {before['reply_status']!r}), yet POST /_sandbox/force "
                f"{action!r} answered {response.status_code} {response.text[:200]}, not 412 "
                "failed_precondition: a reply changed after it was final"
            )
        self.read(consent)

    def _keeps_rules(self, before: dict[str, Any], now: dict[str, Any]) -> None:
        made = self.made[now["id"]]
        fixed = [name for name in IMMUTABLE if now.get(name) != made.get(name)]
        if fixed:
            raise AssertionError(
                f"[RequestConsent] consent {now['id']} changed {fixed} since it was made"
            )
        # What the lifecycle may change (updated_at, last, must follow the others).
        moved = [name for name in CHANGING_FIELDS if now.get(name) != before.get(name)]
        if not moved:
            return
        where = f"consent {now['id']} ({now['phone']}) {self._age(now)}"
        if before["reply_status"] != WAITING:
            changes = ", ".join(f"{n} {before.get(n)!r} -> {now.get(n)!r}" for n in moved)
            raise AssertionError(
                f"[final reply] {where}: its reply was final ({before['reply_status']!r}), yet "
                f"the consent changed: {changes}; a reply changed after it was final"
            )
        if moved == ["updated_at"]:
            raise AssertionError(
                f"[updated_at] {where}: nothing changed, yet updated_at moved "
                f"{before['updated_at']!r} -> {now['updated_at']!r}"
            )
        if "updated_at" not in moved or instant(now["updated_at"]) <= instant(before["updated_at"]):
            raise AssertionError(
                f"[updated_at] {where}: {', '.join(n for n in moved if n != 'updated_at')} "
                f"changed, yet updated_at went {before['updated_at']!r} -> {now['updated_at']!r}"
            )

    def _age(self, consent: dict[str, Any]) -> str:
        now = instant(self.kit.control.clock()["now"])
        return f"{now - instant(consent['created_at'])} after its request"
