"""Vietnamese phone numbers: the spec's pattern admits them; here they get one canonical form."""

from __future__ import annotations


def normalize_phone(phone: str) -> str:
    """0912345678, 84912345678 and +84912345678 all become 84912345678 (spaces dropped)."""
    phone = "".join(phone.split())
    if phone.startswith("+84"):
        return phone[1:]
    if phone.startswith("0"):
        return "84" + phone[1:]
    return phone
