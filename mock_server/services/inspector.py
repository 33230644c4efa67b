"""What the inspector reads: shops with their webhook targets, a consent's timeline, the events
due next. Reads only: every change the inspector offers goes through the control API."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.domain import notices, timeline
from mock_server.domain.errors import NotFound
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent, OutboxEntry, Shop
from mock_server.domain.ports import Store
from mock_server.domain.world import World
from mock_server.services.shops import OAView


@dataclass(frozen=True)
class ShopView:
    shop: Shop
    oas: list[OAView]


@dataclass(frozen=True)
class Timeline:
    consent: Consent
    steps: list[timeline.Step]
    deliveries: list[OutboxEntry]
    now: int


class InspectorService:
    def __init__(self, store: Store, world: World) -> None:
        self.store = store
        self.world = world

    def shops(self, after: int, limit: int) -> list[ShopView]:
        return [self._view(shop) for shop in self.store.shops_page(after, limit)]

    def shop(self, shop_id: int) -> ShopView:
        shop = self.store.get_shop(shop_id)
        if shop is None:
            raise NotFound(f"no shop {shop_id}", "shop_id")
        return self._view(shop)

    def _view(self, shop: Shop) -> ShopView:
        def url(oa_id: int) -> str:
            return self.store.get_meta(notices.target_key(shop.shop_id, oa_id)) or ""

        return ShopView(shop, [OAView(oa.oa_id, oa.name, url(oa.oa_id)) for oa in shop.oas])

    def timeline(self, consent_id: int) -> Timeline:
        with self.store.transaction():
            now = self.world.advance()
            consent = self.store.get_consent(consent_id)
            if consent is None:
                raise NotFound(f"no consent {consent_id}", "consent_id")
            history = self.store.history_of(consent_id)
            pending = self.store.events_of(consent_id)
            deliveries = self.store.outbox_of(consent_id)
        steps = timeline.timeline(consent, history, pending, now)
        return Timeline(consent, steps, deliveries, now)

    def upcoming(self, limit: int) -> tuple[int, list[Event]]:
        """Now, and the events due next (after moving the world to now)."""
        with self.store.transaction():
            now = self.world.advance()
            return now, self.store.upcoming_events(limit)
