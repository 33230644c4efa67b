"""Bulk loading (datasets, benchmarks): consents stored as they stand, their futures planned."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from mock_server.domain import lifecycle
from mock_server.domain.lifecycle import Event, Future
from mock_server.domain.model import Consent
from mock_server.domain.ports import Store


class LoadService:
    def __init__(self, store: Store, call_window_ms: int) -> None:
        self.store = store
        self.call_window_ms = call_window_ms

    def load_consents(
        self, consents: Sequence[Consent], futures: Sequence[Future | None] = ()
    ) -> int:
        """Insert consents in order (ids follow it). Waiting ones get their deadline and their
        `future` as events; no webhooks."""
        with self.store.transaction():
            first = self.store.max_consent_id() + 1
            count = self.store.insert_many(consents)
            events: list[Event] = []
            for n, (consent, future) in enumerate(itertools.zip_longest(consents, futures)):
                if consent is None:
                    continue
                events += lifecycle.resume(consent, first + n, future, self.call_window_ms)
            self.store.add_events(events)
        return count

    def load_once(
        self, marker: str, consents: Sequence[Consent], futures: Sequence[Future | None] = ()
    ) -> int | None:
        """Load the consents unless the meta value `marker` says they were (None then). The
        marker is set in the same transaction, so sandboxes started at once on one store with
        the same dataset load it once."""
        with self.store.transaction():
            if not self.store.replace_meta(marker, None, "loading"):
                return None
            count = self.load_consents(consents, futures)
            self.store.set_meta(marker, str(count))
        return count
