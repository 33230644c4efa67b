"""Customers over virtual time: the magic phones' documented lives, played out by moving the
sandbox's clock, as the wire API, CheckConsent and the webhooks tell them. Each test has a fresh
shop of its own; every read also checks that `updated_at` follows the state and that a final
reply never changes (contract_tests/lifecycle.py).

The clock is shared with the other suites: it is only ever moved forward by relative steps, and
frozen while this module runs so that nothing moves between a step and the reads after it.
Needs the sandbox's control API, so it does not run against the live API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from contract_tests.audit import audit_webhook
from contract_tests.lifecycle import FollowedShop
from contract_tests.model import instant
from contract_tests.receiver import receiving
from contract_tests.session import Kit
from mock_server.domain.phones import normalize_phone
from mock_server.hosts import is_local_url as is_local

# The magic phones (README, "Magic phones"): received after 5 s, seen after 30 s, then...
AGREES = "0900000001"  # ...agrees after 1 minute
REJECTS = "0900000002"  # ...rejects after 1 minute
SILENT = "0900000003"  # ...never answers: NS at the deadline
NO_ZALO = "0900000004"  # no Zalo account: fails at once, -213
RECEIVED, SEEN, REPLIED = timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=1)
REPLY_WINDOW = timedelta(hours=24)
CALL_WINDOW = timedelta(days=30)

NEEDS_CLOCK = (
    "needs a sandbox: the lifecycle is played out by moving its clock (/_sandbox/clock), "
    "which this target does not offer (a live target is never asked)"
)
UNREACHABLE = (
    "the webhook receiver listens on this machine's 127.0.0.1: a remote sandbox cannot reach it"
)


@pytest.fixture(scope="module")
def sandbox(kit: Kit) -> Iterator[Kit]:
    if kit.guard.live or not kit.control.answers_clock():
        pytest.skip(NEEDS_CLOCK)
    rate = kit.control.clock()["rate"]
    kit.control.move_clock(rate=0)  # a served sandbox runs with real time: hold it still
    yield kit
    kit.control.move_clock(rate=rate)


@pytest.fixture
def shop(sandbox: Kit) -> FollowedShop:
    return FollowedShop(sandbox)


def test_an_agreeing_customer(shop: FollowedShop) -> None:
    shop.expect_check(AGREES, "no request ever sent")
    made = shop.request(AGREES)
    start = instant(made["created_at"])
    deadline = start + REPLY_WINDOW
    waiting: dict[str, Any] = {"status": "P", "reply_status": "S", "is_charged": True}
    shop.expect_fields(made, "as RequestConsent answered it", **waiting, expires_at=deadline)
    shop.expect(made, **waiting, delivery_status="unknown", delivery_time=None)
    shop.expect_check(AGREES, "request sent", expired_time=deadline)

    shop.advance("10s")
    shop.expect(
        made,
        delivery_status="received",
        delivery_time=start + RECEIVED,
        updated_at=start + RECEIVED,
    )
    shop.expect_check(AGREES, "waiting for approval", expired_time=deadline)
    shop.advance("30s")
    shop.expect(made, delivery_status="seen", reply_status="S", updated_at=start + SEEN)
    shop.expect_check(AGREES, "waiting for approval")
    shop.advance("30s")
    replied = start + REPLIED
    shop.expect(made, reply_status="P", updated_at=replied, expires_at=replied + CALL_WINDOW)
    shop.expect_check(AGREES, "approved", expired_time=replied + CALL_WINDOW)

    shop.advance("30d")  # the calling window ends; the answer stays
    shop.expect(made, reply_status="P")
    shop.expect_check(AGREES, "consent expired")
    shop.refuse(made, "reject")


def test_a_rejecting_customer(shop: FollowedShop) -> None:
    made = shop.request(REJECTS)
    start = instant(made["created_at"])
    shop.advance("70s")
    shop.expect(
        made,
        reply_status="N",
        delivery_status="seen",
        delivery_time=start + RECEIVED,
        updated_at=start + REPLIED,
    )
    shop.expect_check(REJECTS, "rejected")
    shop.advance("1d")  # past the reply deadline
    shop.expect(made, reply_status="N")
    shop.expect_check(REJECTS, "rejected")
    shop.refuse(made, "agree")


def test_a_customer_who_never_answers(shop: FollowedShop) -> None:
    made = shop.request(SILENT)
    deadline = instant(made["created_at"]) + REPLY_WINDOW
    shop.advance("1h")
    shop.expect(made, reply_status="S", delivery_status="seen")
    shop.expect_check(SILENT, "waiting for approval", expired_time=deadline)
    shop.advance("22h59m59s")
    shop.expect(made, reply_status="S", expires_at=deadline)
    shop.advance("1s")
    shop.expect(made, reply_status="NS", delivery_status="seen", updated_at=deadline)
    shop.expect_check(SILENT, "consent expired")
    shop.advance("1d")
    shop.expect(made, reply_status="NS")
    shop.refuse(made, "agree")


def test_a_customer_without_zalo(shop: FollowedShop) -> None:
    made = shop.request(NO_ZALO)
    failed: dict[str, Any] = {"status": "N", "error_code": -213, "is_charged": False}
    shop.expect_fields(made, "as RequestConsent answered it", **failed)
    shop.expect(made, **failed)
    shop.expect_check(NO_ZALO, "never interacted with the OA")
    shop.advance("1d")
    shop.expect(made, **failed)
    shop.refuse(made, "agree")


def story(events: list[Any]) -> list[Any]:
    """Each event as (name, what happened, phone as 84…); anything else as it came."""
    return [
        (
            e.get("event_name"),
            e.get("request_type") or e.get("user_consent"),
            normalize_phone(str(e.get("phone"))),
        )
        if isinstance(e, dict)
        else e
        for e in events
    ]


def test_webhooks_tell_the_same_story(kit: Kit, shop: FollowedShop) -> None:
    if not (kit.options.in_process or is_local(kit.options.base_url)):
        pytest.skip(UNREACHABLE)
    with receiving() as hook:
        shop.wire.call("UpdateShopOA", {"oa_id": shop.oa_id, "webhook_url": hook.url})
        try:
            # Ten seconds apart, so that every event has its own instant and so its place.
            agreed = shop.request(AGREES)
            shop.advance("10s")
            shop.request(REJECTS)
            shop.advance("10s")
            shop.request(NO_ZALO)  # fails at once: never sent, so no event
            shop.request(SILENT)
            shop.advance("1d")
            drained = kit.control.drain_webhooks()
        finally:
            shop.wire.call("UpdateShopOA", {"oa_id": shop.oa_id, "webhook_url": ""})
    if drained.get("pending"):
        raise AssertionError(f"[webhooks] drain returned with events still pending: {drained}")
    expected = [
        ("oa_send_consent", "SENT", AGREES),
        ("oa_send_consent", "SENT", REJECTS),
        ("oa_send_consent", "SENT", SILENT),
        ("user_reply_consent", "ALLOW", AGREES),
        ("user_reply_consent", "DENY", REJECTS),
        ("oa_send_consent", "EXPIRED", SILENT),
    ]
    wrong = [str(f) for event in hook.events for f in audit_webhook(kit.facts, event)]
    if wrong:
        raise AssertionError(f"[webhooks] payloads the spec does not describe: {wrong}")
    told = story(hook.events)
    if told != [(name, what, normalize_phone(phone)) for name, what, phone in expected]:
        raise AssertionError(
            f"[webhooks] the OA's target received {told}, expected {expected} in this order"
        )
    strangers = [e for e in hook.events if str(e.get("oa_id")) != shop.oa_id]
    if strangers:
        raise AssertionError(
            f"[webhooks] events of another OA reached this OA's target: {strangers}"
        )
    allow = hook.events[3]
    window_end = instant(shop.read(agreed)["expires_at"])
    if allow.get("expired_time") != int(window_end.timestamp() * 1000):
        raise AssertionError(
            f"[webhooks] ALLOW's expired_time is {allow.get('expired_time')!r}, expected the "
            f"consent's expires_at {window_end.isoformat()} in epoch milliseconds"
        )
