"""The sandbox's parts wired together: store, clock, consent service, shops.

Built once by `create_app`; the HTTP edge, the CLI and the pytest plugin all use this object.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from mock_server.domain import states
from mock_server.domain.clock import Clock, ClockState
from mock_server.domain.consents import ConsentService
from mock_server.domain.ids import oa_id_for, secret_for
from mock_server.domain.model import Shop
from mock_server.domain.paging import CursorCodec
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.settings import Settings
from mock_server.spec import Spec, wire_spec
from mock_server.store import Conflict, Store, open_store

CLOCK_META = "clock"


class Sandbox:
    def __init__(self, settings: Settings, spec: Spec | None = None) -> None:
        self.settings = settings
        self.spec = spec or wire_spec()
        states.check_against(self.spec)
        self.store: Store = open_store(settings)
        self.clock = self._load_clock()
        self.consents = ConsentService(
            self.store,
            self.clock,
            self.spec,
            settings,
            CursorCodec(secret_for(settings.seed, "cursor")),
        )
        self._ensure_demo_shop()

    def _load_clock(self) -> Clock:
        saved = self.store.get_meta(CLOCK_META)
        if saved is not None:
            return Clock(ClockState(**json.loads(saved)))
        start = parse_rfc3339(self.settings.clock_start) if self.settings.clock_start else None
        clock = Clock.starting(start, self.settings.clock_rate)
        self.save_clock(clock)
        return clock

    def save_clock(self, clock: Clock | None = None) -> None:
        self.store.set_meta(CLOCK_META, json.dumps(asdict((clock or self.clock).state)))

    def _ensure_demo_shop(self) -> None:
        s = self.settings
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

    def reset(self) -> None:
        """Back to a fresh start: no consents, only the demo shop, the clock as configured."""
        self.store.reset()
        self.clock = self._load_clock()
        self.consents.clock = self.clock
        self._ensure_demo_shop()

    def close(self) -> None:
        self.store.close()
