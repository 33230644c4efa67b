"""What the rules need to know that the docs do not say: one frozen value, built at start-up
from the settings and the spec (the domain never sees either)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviours:
    """What customers do when no rule decides (INF). Delays in whole seconds, inclusive
    ranges, each counted from the previous step."""

    receive_delay_s: tuple[int, int] = (2, 30)
    see_delay_s: tuple[int, int] = (10, 600)
    reply_delay_s: tuple[int, int] = (30, 3600)
    p_agree: float = 0.7
    p_reject: float = 0.1


@dataclass(frozen=True)
class Policy:
    seed: int = 0
    reply_window_ms: int = 24 * 3_600_000
    call_window_ms: int = 30 * 86_400_000
    behaviours: Behaviours = Behaviours()
    # A second request while one to the same phone waits: fail it (True) or let both run.
    fail_pending_duplicate: bool = True
    duplicate_error_code: int = 8
    # Echo the phone as sent (True) or in its 84xxxxxxxxx form.
    echo_phone_as_sent: bool = True
    default_sort: str = "-created_at"
    default_limit: int = 100
    max_limit: int = 100
    # The zero value of DeliveryStatus, and the sort fields the spec allows (from the spec).
    delivery_unset: str = "unknown"
    sort_fields: tuple[str, ...] = ("created_at", "updated_at")
    webhook_app_id: str = "1000000000000000000"
