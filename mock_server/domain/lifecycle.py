"""A consent's life as events with due times, and the guarded transitions they apply.

`open_consent` fills in a new request and plans its future (delivery, seen, reply, deadline);
`apply` moves a consent by one event. Transitions are guarded by the current state, so an
event made stale by a forced action simply does nothing; nothing changes once a reply is final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_server.domain import states
from mock_server.domain.behaviour import Behaviour
from mock_server.domain.model import Consent

RECEIVED, SEEN, REPLY, DEADLINE = "received", "seen", "reply", "deadline"
AGREED_BY_OUTCOME = {"agree": states.REPLY_AGREED, "reject": states.REPLY_REJECTED}


@dataclass(frozen=True, slots=True)
class Event:
    due: int
    consent_id: int
    kind: str
    value: str = ""  # REPLY: the answer, P or N
    window_ms: int = 0  # REPLY: how long an agreement lets the OA call


@dataclass
class Notice:
    """A Zalo event to forward to the OA's webhook (3P names and fields)."""

    name: str  # oa_send_consent | user_reply_consent
    consent: Consent
    at: int
    fields: dict[str, Any] = field(default_factory=dict)


def fail_at_once(consent: Consent, failure: tuple[int, str]) -> None:
    """A request Zalo refused: never put to the customer, not charged, nothing to plan."""
    code, message = failure
    consent.status = states.STATUS_FAILURE
    consent.reply_status = states.REPLY_UNSET
    consent.is_charged = False
    consent.error_code = code
    consent.error_message = message
    consent.expires_at = None


def plan(consent: Consent, behaviour: Behaviour, call_window_ms: int) -> list[Event]:
    """Every future event of a waiting consent; none for a failed one."""
    if consent.status != states.STATUS_SUCCESS or consent.expires_at is None:
        return []
    start, deadline = consent.created_at, consent.expires_at
    events = [Event(deadline, consent.id, DEADLINE)]
    for kind, offset in ((RECEIVED, behaviour.received_at), (SEEN, behaviour.seen_at)):
        if offset is not None and start + offset < deadline:
            events.append(Event(start + offset, consent.id, kind))
    reply = AGREED_BY_OUTCOME.get(behaviour.outcome)
    if reply and behaviour.reply_at is not None and start + behaviour.reply_at < deadline:
        window = behaviour.call_window_ms or call_window_ms
        events.append(Event(start + behaviour.reply_at, consent.id, REPLY, reply, window))
    return sorted(events, key=lambda e: e.due)


def apply(consent: Consent, event: Event) -> list[Notice]:
    """Move the consent by one event at `event.due`; the notices it causes."""
    waiting = consent.reply_status == states.REPLY_WAITING
    at = event.due
    if event.kind == RECEIVED and waiting and consent.delivery_time is None:
        _receive(consent, at)
    elif event.kind == SEEN and waiting and consent.delivery_status != states.DELIVERY_SEEN:
        _receive(consent, at)
        consent.delivery_status = states.DELIVERY_SEEN
    elif event.kind == REPLY and waiting and consent.expires_at and at < consent.expires_at:
        _receive(consent, at)
        consent.delivery_status = states.DELIVERY_SEEN
        consent.reply_status = event.value
        if event.value == states.REPLY_AGREED:
            consent.expires_at = at + event.window_ms
        consent.updated_at = at
        answer = "ALLOW" if event.value == states.REPLY_AGREED else "DENY"
        return [Notice("user_reply_consent", consent, at, {"user_consent": answer})]
    elif event.kind == DEADLINE and waiting:
        consent.reply_status = states.REPLY_NO_RESPONSE
        consent.updated_at = at
        return [Notice("oa_send_consent", consent, at, {"request_type": "EXPIRED"})]
    else:
        return []
    consent.updated_at = at
    return []


def _receive(consent: Consent, at: int) -> None:
    if consent.delivery_time is None:
        consent.delivery_time = at
        consent.delivery_status = states.DELIVERY_RECEIVED


def sent_notice(consent: Consent) -> list[Notice]:
    """The SENT event of a request that went out."""
    if consent.status != states.STATUS_SUCCESS:
        return []
    return [Notice("oa_send_consent", consent, consent.created_at, {"request_type": "SENT"})]


def snapshot(consent: Consent) -> tuple[object, ...]:
    """The parts of a consent that transitions change (to tell whether one did)."""
    return (
        consent.delivery_status,
        consent.delivery_time,
        consent.reply_status,
        consent.expires_at,
        consent.updated_at,
    )
