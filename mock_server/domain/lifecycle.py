"""A consent's life as events with due times, and the guarded transitions they apply.

`new_consent` fills in a new request, `plan` lays out its future (delivery, seen,
reply, deadline) and `apply` moves a consent by one event. Transitions are guarded by the current
state, so an event made stale by a forced action simply does nothing; nothing changes once a
reply is final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_server.domain import states
from mock_server.domain.behaviour import Behaviour
from mock_server.domain.ids import user_id_for
from mock_server.domain.model import Consent
from mock_server.domain.phones import normalize_phone
from mock_server.domain.policy import Policy
from mock_server.domain.requests import ConsentRequest
from mock_server.domain.timefmt import later

RECEIVED, SEEN, REPLY, DEADLINE = "received", "seen", "reply", "deadline"
AGREED_BY_OUTCOME = {"agree": states.REPLY_AGREED, "reject": states.REPLY_REJECTED}
# What each forced action of the control API does, as the event it stands for.
FORCED = {
    "received": (RECEIVED, ""),
    "seen": (SEEN, ""),
    "agree": (REPLY, states.REPLY_AGREED),
    "reject": (REPLY, states.REPLY_REJECTED),
    "no_response": (DEADLINE, ""),
}
DUPLICATE_MESSAGE = "a consent request to this phone is already waiting for an answer"
# Zalo's webhook events (3P), and the values of each that the lifecycle sends: the field that
# carries them and the values (the spec's payload enums must have them; Zalo's USER_BLOCKED is
# never sent here).
SEND_EVENT, REPLY_EVENT = "oa_send_consent", "user_reply_consent"
SENT, EXPIRED, ALLOW, DENY = "SENT", "EXPIRED", "ALLOW", "DENY"
WEBHOOK_VALUES: dict[str, tuple[str, tuple[str, ...]]] = {
    SEND_EVENT: ("request_type", (SENT, EXPIRED)),
    REPLY_EVENT: ("user_consent", (ALLOW, DENY)),
}


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


def new_consent(shop_id: int, request: ConsentRequest, now: int, policy: Policy) -> Consent:
    """A request as it stands when made: sent, charged, waiting until the reply deadline."""
    phone_norm = normalize_phone(request.phone)
    return Consent(
        id=0,
        shop_id=shop_id,
        user_id=user_id_for(request.oa_id, phone_norm),
        oa_id=request.oa_id,
        phone=request.phone if policy.echo_phone_as_sent else phone_norm,
        phone_norm=phone_norm,
        call_type=request.call_type,
        reason_code=request.reason_code,
        status=states.STATUS_SUCCESS,
        reply_status=states.REPLY_WAITING,
        delivery_status=policy.delivery_unset,
        delivery_time=None,
        is_charged=True,
        error_code=0,
        error_message="",
        expires_at=later(now, policy.reply_window_ms),
        created_at=now,
        updated_at=now,
    )


def forced_event(consent_id: int, action: str, now: int, call_window_ms: int) -> Event:
    kind, value = FORCED[action]
    return Event(now, consent_id, kind, value, call_window_ms)


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
        if offset is not None and later(start, offset) < deadline:
            events.append(Event(start + offset, consent.id, kind))
    reply = AGREED_BY_OUTCOME.get(behaviour.outcome)
    if reply and behaviour.reply_at is not None and later(start, behaviour.reply_at) < deadline:
        window = behaviour.call_window_ms or call_window_ms
        events.append(Event(start + behaviour.reply_at, consent.id, REPLY, reply, window))
    return sorted(events, key=lambda e: e.due)


@dataclass(frozen=True)
class Future:
    """What is still to come for a waiting consent, as absolute instants (epoch ms)."""

    received_at: int | None = None
    seen_at: int | None = None
    reply_at: int | None = None
    reply: str = ""  # P or N with reply_at


def resume(
    consent: Consent, consent_id: int, future: Future | None, call_window_ms: int
) -> list[Event]:
    """The events still due for a consent stored as it stands (a dataset) under `consent_id`:
    its deadline, and the delivery, seen and reply its `future` plans."""
    if consent.reply_status != states.REPLY_WAITING:
        return []
    if consent.status != states.STATUS_SUCCESS or consent.expires_at is None:
        return []
    events = [Event(consent.expires_at, consent_id, DEADLINE)]
    plan = future or Future()
    for kind, due in ((RECEIVED, plan.received_at), (SEEN, plan.seen_at)):
        if due is not None:
            events.append(Event(due, consent_id, kind))
    if plan.reply_at is not None and plan.reply:
        events.append(Event(plan.reply_at, consent_id, REPLY, plan.reply, call_window_ms))
    return events


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
            consent.expires_at = later(at, event.window_ms)
        consent.updated_at = at
        answer = ALLOW if event.value == states.REPLY_AGREED else DENY
        return [Notice(REPLY_EVENT, consent, at, {"user_consent": answer})]
    elif event.kind == DEADLINE and waiting:
        consent.reply_status = states.REPLY_NO_RESPONSE
        consent.updated_at = at
        return [Notice(SEND_EVENT, consent, at, {"request_type": EXPIRED})]
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
    return [Notice(SEND_EVENT, consent, consent.created_at, {"request_type": SENT})]


def snapshot(consent: Consent) -> tuple[object, ...]:
    """The parts of a consent that transitions change (to tell whether one did)."""
    return (
        consent.delivery_status,
        consent.delivery_time,
        consent.reply_status,
        consent.expires_at,
        consent.updated_at,
    )
