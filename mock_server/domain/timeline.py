"""A consent's timeline: what happened to it, at which virtual instants, and what is planned.

Built from the consent as stored, the history of events applied to it and its pending events.
A consent loaded from a dataset has no history from before the load: its steps are then read
from its fields (the delivery time, the reply and `updated_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mock_server.domain import lifecycle, states
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent, Happening

CREATED, FAILED, RECEIVED, SEEN = "created", "failed", "received", "seen"
AGREED, REJECTED, NO_RESPONSE, EXPIRED = "agreed", "rejected", "no_response", "expired"
REPLIES = {states.REPLY_AGREED: AGREED, states.REPLY_REJECTED: REJECTED}
# Steps at the same instant come in the order a consent lives them.
ORDER = {
    name: n
    for n, name in enumerate(
        (CREATED, FAILED, RECEIVED, SEEN, AGREED, REJECTED, NO_RESPONSE, EXPIRED)
    )
}


@dataclass(frozen=True)
class Step:
    what: str  # one of the names above
    at: int | None  # epoch ms; None when the sandbox did not keep the instant
    planned: bool = False
    forced: bool = False
    note: str = ""


def _happened(h: Happening) -> Step:
    if h.kind == lifecycle.REPLY:
        what = REPLIES.get(h.value, h.value)
    elif h.kind == lifecycle.DEADLINE:
        what = NO_RESPONSE
    else:
        what = h.kind
    return Step(what, h.at, forced=h.forced)


def _planned(event: Event) -> Step:
    if event.kind == lifecycle.REPLY:
        return Step(REPLIES.get(event.value, event.value), event.due, planned=True)
    if event.kind == lifecycle.DEADLINE:
        return Step(NO_RESPONSE, event.due, planned=True, note="the reply deadline")
    return Step(event.kind, event.due, planned=True)


def timeline(
    consent: Consent, history: list[Happening], pending: list[Event], now: int
) -> list[Step]:
    """Every step, past then planned, in time order."""
    steps = [Step(CREATED, consent.created_at)]
    if consent.status == states.STATUS_FAILURE:
        note = f"error {consent.error_code}: {consent.error_message}"
        steps.append(Step(FAILED, consent.created_at, note=note))
    kept = [_happened(h) for h in history]
    steps += kept + _derived(consent, {s.what for s in kept})
    if consent.reply_status == states.REPLY_AGREED and consent.expires_at is not None:
        ended = consent.expires_at <= now
        steps.append(Step(EXPIRED, consent.expires_at, planned=not ended, note="calling window"))
    steps += [_planned(event) for event in _still_to_come(consent, pending)]
    first = consent.created_at
    return sorted(
        steps,
        key=lambda s: (s.planned, first if s.at is None else s.at, ORDER.get(s.what, len(ORDER))),
    )


def _derived(consent: Consent, known: set[str]) -> list[Step]:
    """Steps the consent's fields show that its history lacks (data loaded from a file)."""
    out: list[Step] = []
    if RECEIVED not in known and consent.delivery_time is not None:
        out.append(Step(RECEIVED, consent.delivery_time))
    reply = consent.reply_status
    answer = REPLIES.get(reply) or (NO_RESPONSE if reply == states.REPLY_NO_RESPONSE else None)
    if SEEN not in known and consent.delivery_status == states.DELIVERY_SEEN:
        if reply == states.REPLY_WAITING or answer in (AGREED, REJECTED):
            out.append(Step(SEEN, consent.updated_at))  # a reply is seen when it is given
        else:
            out.append(Step(SEEN, None, note="before the deadline; the instant was not kept"))
    if answer is not None and answer not in known:
        out.append(Step(answer, consent.updated_at))
    return out


def _still_to_come(consent: Consent, pending: list[Event]) -> list[Event]:
    """The pending events that will change the consent (a forced step makes some moot)."""
    future, out = replace(consent), []
    for event in sorted(pending, key=lambda e: e.due):
        before = lifecycle.snapshot(future)
        lifecycle.apply(future, event)
        if lifecycle.snapshot(future) != before:
            out.append(event)
    return out
