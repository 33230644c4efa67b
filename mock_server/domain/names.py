"""Made-up names for shops and Official Accounts that did not bring their own: Vietnamese-
looking, reproducible from the seed."""

from __future__ import annotations

import hashlib

_FIRST = (
    "Minh An",
    "Phú Quý",
    "Hoa Sen",
    "Thành Đạt",
    "Bình Minh",
    "Hải Đăng",
    "Ngọc Lan",
    "Tân Phát",
    "Kim Long",
    "Sao Mai",
    "Hưng Thịnh",
    "An Khang",
)
_KIND = ("Store", "Spa", "Clinic", "Travel", "Mart", "Bakery", "Pharmacy", "Logistics")


def _pick(seed: int, purpose: str, choices: tuple[str, ...]) -> str:
    digest = hashlib.blake2b(f"{seed}:{purpose}".encode(), digest_size=8).digest()
    return choices[int.from_bytes(digest, "big") % len(choices)]


def shop_name(seed: int, shop_id: int) -> str:
    return f"{_pick(seed, f'shop:{shop_id}', _FIRST)} {_pick(seed, f'kind:{shop_id}', _KIND)}"


def oa_name(shop_name: str, index: int) -> str:
    """An OA is named after its shop: the first one as the shop, the others as branches."""
    return shop_name if index == 0 else f"{shop_name} (chi nhánh {index + 1})"
