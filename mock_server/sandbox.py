"""The sandbox's parts wired together: store, clock, world, scenarios, consent service, shops.

Built once by `create_app`; the HTTP edge, the CLI and the pytest plugin all use this object.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mock_server.domain import lifecycle, states
from mock_server.domain.clock import Clock
from mock_server.domain.consents import ConsentService
from mock_server.domain.ids import oa_id_for, secret_for
from mock_server.domain.lifecycle import Event
from mock_server.domain.model import Consent, Shop
from mock_server.domain.paging import CursorCodec
from mock_server.domain.scenarios import Scenarios
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.domain.world import World
from mock_server.journal import Journal
from mock_server.settings import Settings
from mock_server.spec import Spec, control_spec, wire_spec
from mock_server.store import Conflict, Store, open_store
from mock_server.webhooks import WebhookSender


class Sandbox:
    def __init__(self, settings: Settings, spec: Spec | None = None) -> None:
        self.settings = settings
        self.spec = spec or wire_spec()
        states.check_against(self.spec)
        self.store: Store = open_store(settings)
        self.clock = Clock(self.store)
        self.world = World(self.store, self.clock, settings)
        self.scenarios = Scenarios(self.store, control_spec(), settings.magic_phones)
        self._scenario_file = (
            self.scenarios.read_file(Path(settings.scenarios)) if settings.scenarios else None
        )
        self.consents = ConsentService(
            self.world,
            self.scenarios,
            self.spec,
            settings,
            CursorCodec(secret_for(settings.seed, "cursor")),
        )
        self.journal = Journal(settings.journal_size)
        self.webhooks = WebhookSender(self.store, self.world, settings)
        self._start()

    def _start(self) -> None:
        s = self.settings
        self.clock.start(parse_rfc3339(s.clock_start) if s.clock_start else None, s.clock_rate)
        if self._scenario_file is not None:
            self.scenarios.set_rules(None, self._scenario_file)
        if self.store.shop_by_key(s.demo_api_key, partner=False) is None:
            self.store.create_shop(
                Shop(s.demo_shop_id, s.demo_api_key, s.demo_shop_key, s.demo_oa_ids)
            )

    @property
    def demo_shop(self) -> Shop:
        shop = self.store.shop_by_key(self.settings.demo_api_key, partner=False)
        assert shop is not None, "the demo shop is created at start-up"
        return shop

    def create_shop(
        self,
        shop_id: int | None = None,
        api_key: str | None = None,
        shop_key: str | None = None,
        oa_ids: Sequence[int] = (),
    ) -> Shop:
        """A new shop; what the caller does not choose is made up from the seed."""
        if shop_id is not None:
            return self._create_shop(shop_id, api_key, shop_key, oa_ids)
        # Another worker may take the next id first: then try the one after.
        for _ in range(9):
            try:
                next_id = max(self.store.max_shop_id(), self.settings.demo_shop_id) + 1
                return self._create_shop(next_id, api_key, shop_key, oa_ids)
            except Conflict:
                if api_key or shop_key:
                    raise
        raise Conflict("could not find a free shop id")

    def _create_shop(
        self, shop_id: int, api_key: str | None, shop_key: str | None, oa_ids: Sequence[int]
    ) -> Shop:
        seed = self.settings.seed
        shop = Shop(
            shop_id=shop_id,
            api_key=api_key or f"{shop_id}:{secret_for(seed, f'api_key:{shop_id}')}",
            shop_key=shop_key or f"shop{shop_id}:{secret_for(seed, f'shop_key:{shop_id}')}",
            oa_ids=tuple(dict.fromkeys(oa_ids)) or (oa_id_for(seed, shop_id),),
        )
        self.store.create_shop(shop)
        return shop

    def load_consents(
        self, consents: Sequence[Consent], futures: Sequence[Mapping[str, Any] | None] = ()
    ) -> int:
        """Bulk-load consents as they stand (a dataset). Waiting ones get their deadline, and
        the delivery, seen and reply times their `future` plans, as events; no webhooks."""
        window = self.settings.call_window_seconds * 1000
        with self.store.transaction():
            first = self.store.max_consent_id() + 1
            count = self.store.insert_many(consents)
            events: list[Event] = []
            for n, (consent, future) in enumerate(itertools.zip_longest(consents, futures)):
                if consent is None or consent.reply_status != states.REPLY_WAITING:
                    continue
                if consent.status != states.STATUS_SUCCESS or consent.expires_at is None:
                    continue
                events.append(Event(consent.expires_at, first + n, lifecycle.DEADLINE))
                plan = future or {}
                for key, kind in (("received_at", lifecycle.RECEIVED), ("seen_at", lifecycle.SEEN)):
                    if plan.get(key):
                        events.append(Event(parse_rfc3339(plan[key]), first + n, kind))
                if plan.get("reply_at") and plan.get("reply"):
                    due = parse_rfc3339(plan["reply_at"])
                    events.append(Event(due, first + n, lifecycle.REPLY, plan["reply"], window))
            self.store.add_events(events)
        return count

    def reset(self) -> None:
        """Back to a fresh start: nothing stored, only the demo shop, the clock as configured."""
        self.store.reset()
        self.journal.clear()
        self.clock.forget()
        self._start()

    def close(self) -> None:
        self.store.close()
