"""The world moves to `now` before every read or write: due events apply in time order."""

from __future__ import annotations

from mock_server.domain import lifecycle, notices
from mock_server.domain.clock import Clock
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent
from mock_server.settings import Settings
from mock_server.store.base import Store
from mock_server.twirp import TwirpError

BATCH = 500
# What each forced action does, as the event it stands for.
FORCED = {
    "received": (lifecycle.RECEIVED, ""),
    "seen": (lifecycle.SEEN, ""),
    "agree": (lifecycle.REPLY, lifecycle.AGREED_BY_OUTCOME["agree"]),
    "reject": (lifecycle.REPLY, lifecycle.AGREED_BY_OUTCOME["reject"]),
    "no_response": (lifecycle.DEADLINE, ""),
}


class World:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings

    def advance(self) -> int:
        """Apply every event due by now; returns now. Call inside a store transaction."""
        now = self.clock.now_ms()
        due = self.store.next_due()
        while due is not None and due <= now:
            for event in self.store.pop_due_events(now, BATCH):
                self._apply(event)
            due = self.store.next_due()
        return now

    def _apply(self, event: Event, consent: Consent | None = None) -> bool:
        """Apply one event (to `consent` if the caller has it already); whether it changed."""
        consent = consent or self.store.get_consent(event.consent_id)
        if consent is None:  # gone with a reset
            return False
        before = lifecycle.snapshot(consent)
        caused = lifecycle.apply(consent, event)
        if lifecycle.snapshot(consent) == before:
            return False
        self.store.update_consent(consent)
        notices.queue(self.store, caused, self.settings.webhook_app_id)
        return True

    def force(self, consent_id: int, action: str) -> Consent:
        """Make the customer act now. Only a waiting consent can still change."""
        with self.store.transaction():
            now = self.advance()
            consent = self.store.get_consent(consent_id)
            if consent is None:
                raise TwirpError(
                    "not_found", f"no consent {consent_id}", {"argument": "consent_id"}
                )
            kind, value = FORCED[action]
            window = self.settings.call_window_seconds * 1000
            if not self._apply(Event(now, consent_id, kind, value, window), consent):
                raise TwirpError(
                    "failed_precondition",
                    f"consent {consent_id} cannot be {action}: its reply_status is "
                    f"{consent.reply_status} and its delivery_status {consent.delivery_status}",
                    {"argument": "action"},
                )
            return consent
