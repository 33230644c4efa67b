"""Shops and their keys: authenticate a wire call, create a shop (createShop), health."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from mock_server.domain import names, notices
from mock_server.domain.errors import AlreadyExists, Unauthenticated
from mock_server.domain.ids import INT64_MAX, oa_id_for, secret_for
from mock_server.domain.model import OfficialAccount, Shop
from mock_server.domain.ports import Store
from mock_server.domain.requests import NewShop, WebhookTarget

ATTEMPTS = 9  # ids tried for a shop whose id the caller leaves to the sandbox


@dataclass(frozen=True)
class DemoShop:
    """The shop every fresh sandbox starts with (its keys are in the README)."""

    shop_id: int
    api_key: str
    shop_key: str
    oa_ids: tuple[int, ...]
    name: str = "Sandbox Demo Shop"


@dataclass(frozen=True)
class OAView:
    """An OA as ListOA shows it: with the webhook target set last ("" when none)."""

    oa_id: int
    name: str
    webhook_url: str


@dataclass(frozen=True)
class Health:
    store: str
    shops: int
    consents: int


class ShopService:
    def __init__(self, store: Store, seed: int, demo: DemoShop) -> None:
        self.store = store
        self.seed = seed
        self.demo = demo

    def authenticate(self, key: str, partner: bool) -> Shop:
        """The shop holding this api_key (shop routes) or shop_key (partner routes)."""
        if not key:
            raise Unauthenticated("missing Authorization: Bearer <key> header")
        shop = self.store.shop_by_key(key, partner)
        if shop is None:
            which = "shop_key (partner API)" if partner else "api_key (shop API)"
            raise Unauthenticated(f"the key is not a valid {which}")
        return shop

    def owner(self, key: str) -> tuple[Shop, bool] | None:
        """The shop whose api_key or shop_key this is, and whether it is the shop_key."""
        for partner in (False, True):
            shop = self.store.shop_by_key(key, partner)
            if shop is not None:
                return shop, partner
        return None

    def ensure_demo_shop(self) -> None:
        demo = self.demo
        if self.store.shop_by_key(demo.api_key, partner=False) is None:
            new = NewShop(demo.shop_id, demo.api_key, demo.shop_key, demo.oa_ids, demo.name)
            with contextlib.suppress(AlreadyExists):  # another worker made it just now
                self._create(demo.shop_id, new)

    def demo_shop(self) -> Shop:
        shop = self.store.shop_by_key(self.demo.api_key, partner=False)
        assert shop is not None, "the demo shop is created at start-up"
        return shop

    def create_shop(self, new: NewShop) -> Shop:
        """A new shop; what the caller does not choose is made up from the seed."""
        if new.shop_id is not None:
            return self._create(new.shop_id, new)
        # Another worker may take the next id first: then try the one after.
        for attempt in range(ATTEMPTS):
            try:
                with self.store.transaction():
                    next_id = max(self.store.max_shop_id(), self.demo.shop_id) + 1
                    if next_id > INT64_MAX:  # someone took the largest id: draw one instead,
                        # from how many shops there are, so each new shop tries new ids
                        nth = self.store.count_shops() * ATTEMPTS + attempt
                        next_id = oa_id_for(self.seed, INT64_MAX, nth)
                    return self._create(next_id, new)
            except AlreadyExists:
                if new.api_key or new.shop_key:
                    raise
        raise AlreadyExists("could not find a free shop id")

    def _create(self, shop_id: int, new: NewShop) -> Shop:
        seed = self.seed
        name = new.name or names.shop_name(seed, shop_id)
        oa_ids = _unique(new.oa_ids) or (oa_id_for(seed, shop_id),)
        given = dict(zip(new.oa_ids, new.oa_names, strict=False))
        shop = Shop(
            shop_id=shop_id,
            api_key=new.api_key or f"{shop_id}:{secret_for(seed, f'api_key:{shop_id}')}",
            shop_key=new.shop_key or f"shop{shop_id}:{secret_for(seed, f'shop_key:{shop_id}')}",
            oas=tuple(
                OfficialAccount(oa_id, given.get(oa_id) or names.oa_name(name, n))
                for n, oa_id in enumerate(oa_ids)
            ),
            name=name,
        )
        self.store.create_shop(shop)
        return shop

    def current_account(self, shop: Shop) -> Shop:
        return shop

    def list_oa(self, shop: Shop) -> list[OAView]:
        return [self._view(shop, oa) for oa in shop.oas]

    def update_shop_oa(self, shop: Shop, target: WebhookTarget) -> OAView:
        """Set (or, with no URL, remove) where the OA's Zalo events are forwarded."""
        oa = shop.oa(target.oa_id)
        self.store.set_meta(notices.target_key(shop.shop_id, oa.oa_id), target.url)
        return self._view(shop, oa)

    def _view(self, shop: Shop, oa: OfficialAccount) -> OAView:
        url = self.store.get_meta(notices.target_key(shop.shop_id, oa.oa_id))
        return OAView(oa.oa_id, oa.name, url or "")

    def health(self) -> Health:
        return Health(self.store.kind, self.store.count_shops(), self.store.count_consents())


def _unique(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(values))
