"""The world moves to `now` before every read or write: due events apply in time order."""

from __future__ import annotations

from mock_server.domain import lifecycle, notices
from mock_server.domain.clock import Clock
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent, Happening
from mock_server.domain.ports import Store

BATCH = 500


class World:
    def __init__(self, store: Store, clock: Clock, webhook_app_id: str) -> None:
        self.store = store
        self.clock = clock
        self.app_id = webhook_app_id
        self.changes = 0  # how many events changed a consent (the inspector's live updates)

    def due(self) -> bool:
        """Whether an event is due by now (cheap: no write needed when it is not)."""
        due = self.store.next_due()
        return due is not None and due <= self.clock.now_ms()

    def settle(self) -> int:
        """Bring the world to now before a read; returns now. Takes the store's write
        transaction only when an event is due (reads of a quiet world lock nothing)."""
        if not self.due():
            return self.clock.now_ms()
        with self.store.transaction():
            return self.advance()

    def advance(self) -> int:
        """Apply every event due by now; returns now. Call inside a store transaction."""
        now = self.clock.now_ms()
        due = self.store.next_due()
        while due is not None and due <= now:
            for event in self.store.pop_due_events(now, BATCH):
                self.apply(event)
            due = self.store.next_due()
        return now

    def apply(self, event: Event, consent: Consent | None = None, forced: bool = False) -> bool:
        """Apply one event (to `consent` if the caller has it already); whether it changed.
        A change is kept in the consent's history, with the webhook events it causes."""
        consent = consent or self.store.get_consent(event.consent_id)
        if consent is None:  # gone with a reset
            return False
        before = lifecycle.snapshot(consent)
        caused = lifecycle.apply(consent, event)
        if lifecycle.snapshot(consent) == before:
            return False
        self.store.update_consent(consent)
        self.store.add_history([Happening(consent.id, event.due, event.kind, event.value, forced)])
        notices.queue(self.store, caused, self.app_id)
        self.changes += 1
        return True
