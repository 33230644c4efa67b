"""One frozen settings object. CLI flags and `ETELECOM_SANDBOX_*` environment variables map onto it.

Every behaviour that eTelecom's docs do not state is a field here with a default; the README's
fidelity notes give each one's source and how to change it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from mock_server.store.postgres_url import is_postgres_url, mask

ENV_PREFIX = "ETELECOM_SANDBOX_"


@dataclass(frozen=True)
class Settings:
    # Where consents live: "memory", "sqlite" (file `sqlite_path`), "sqlite:PATH", or a
    # PostgreSQL URL "postgresql://USER:PASSWORD@HOST:PORT/DB" (shared by many instances).
    store: str = "sqlite"
    sqlite_path: str = "etelecom-sandbox.sqlite3"
    # PostgreSQL: connections each instance (each worker) may hold, and how long a request
    # waits for one before it answers Twirp `unavailable` (503).
    postgres_pool_size: int = 4
    postgres_timeout_seconds: float = 2.0
    # Whether PostgreSQL flushes each commit to disk before the sandbox answers. Off, as SQLite's
    # synchronous=NORMAL: a killed sandbox loses nothing it answered, a crashed database server
    # may lose its last fraction of a second.
    postgres_synchronous_commit: bool = False
    # One seed drives every random choice (secrets, cursor signing, customer behaviour).
    seed: int = 0

    # Virtual clock at start: None means the wall clock; otherwise an RFC 3339 instant.
    clock_start: str | None = None
    # 1.0 runs with real time, 0 freezes the clock until it is moved.
    clock_rate: float = 1.0

    # How long a customer has to answer a request (3P: 24 hours).
    reply_window_seconds: int = 24 * 3600
    # Twirp code for RequestConsent with an OA the shop does not own (INF).
    foreign_oa_error: str = "not_found"
    # Order of ListRequestConsent when `paging.sort` is empty (INF).
    default_sort: str = "-created_at"
    # Whether a consent's `phone` is returned as sent ("as_sent") or as 84xxxxxxxxx ("normalized").
    phone_echo: str = "as_sent"

    # How long an agreed consent lets the OA call (3P: 30 days).
    call_window_seconds: int = 30 * 86400
    # What customers do when no rule decides (INF): delays are drawn from these ranges
    # (seconds, inclusive), each counted from the previous step.
    receive_delay_seconds: tuple[int, ...] = (2, 30)
    see_delay_seconds: tuple[int, ...] = (10, 600)
    reply_delay_seconds: tuple[int, ...] = (30, 3600)
    # Chance a customer agrees or rejects; the rest never answer (NS at the deadline).
    p_agree: float = 0.7
    p_reject: float = 0.1
    # A second request to a phone whose earlier request is still waiting: "fail" (status N,
    # error `duplicate_error_code`, not charged) or "allow" (both run their course). INF.
    pending_duplicate: str = "fail"
    duplicate_error_code: int = 8
    # Scenario rules file (YAML or JSON, see fixtures/scenarios/); the magic phones are built in.
    scenarios: str | None = None
    magic_phones: bool = True

    # Webhooks: `app_id` in event payloads, attempts per event, first retry delay (doubles).
    webhook_app_id: str = "1000000000000000000"
    webhook_max_attempts: int = 5
    webhook_backoff_seconds: float = 1.0
    webhook_timeout_seconds: float = 5.0
    # How long one POST /_sandbox/webhooks/drain keeps trying before it answers.
    drain_seconds: float = 5.0
    # How many requests the journal keeps, and how much memory their bodies may take (MiB).
    journal_size: int = 1000
    journal_mb: int = 16
    # Memory for encoded consents kept for list pages (MiB); the oldest go first.
    encode_cache_mb: int = 8
    # Memory for whole ListRequestConsent answers, kept while no consent changes (MiB; 0: none).
    list_cache_mb: int = 8
    # Worker processes serving one store (`serve --workers N`; SQLite or PostgreSQL).
    workers: int = 1
    # Needed by every control call when set; `serve` requires it on a non-loopback address.
    control_token: str | None = None
    # Whether a request's X-Sandbox-Fault / X-Sandbox-Delay headers are honoured: "loopback"
    # (requests from this machine), "on" or "off".
    fault_headers: str = "loopback"
    # How long a `hang` fault holds a request whose client does not give up (wall seconds).
    fault_hang_seconds: float = 60.0
    # Integration coverage (GET /_sandbox/coverage): counted unless false. A burst is more than
    # `misuse_burst_requests` requests to one phone within `misuse_burst_window_seconds` of
    # virtual time.
    coverage: bool = True
    misuse_burst_requests: int = 3
    misuse_burst_window_seconds: int = 60
    # Host names /_sandbox/ (control API, inspector) answers to besides loopback names, the
    # address a request came in on and the host `serve` binds; comma-separated, `*` for any.
    allowed_hosts: str = ""

    # The demo shop every fresh sandbox starts with (keys shown in the README).
    demo_shop_id: int = 1000000000000000001
    demo_api_key: str = "1000000000000000001:sandbox-demo-api-key"
    demo_shop_key: str = "shop1000000000000000001:sandbox-demo-shop-key"
    demo_oa_ids: tuple[int, ...] = field(default=(1234567890123456789,))

    def to_json(self) -> str:
        """All fields, for a worker process to rebuild the same settings (`from_json`)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        values: dict[str, Any] = json.loads(text)
        defaults = cls()
        for name, value in values.items():
            if isinstance(getattr(defaults, name, None), tuple):
                values[name] = tuple(value)  # JSON has lists
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def store_kind(self) -> str:
        if is_postgres_url(self.store):
            return "postgresql"
        return self.store.split(":", 1)[0]

    @property
    def store_path(self) -> str:
        """The SQLite file, or the PostgreSQL URL (never show it: `store_shown`)."""
        if is_postgres_url(self.store):
            return self.store
        kind, _, path = self.store.partition(":")
        return path or (self.sqlite_path if kind == "sqlite" else "")

    @property
    def store_label(self) -> str:
        """The store as messages show it: its kind, and a URL with its password masked."""
        kind = self.store_kind
        return f"{kind} {mask(self.store)}" if kind == "postgresql" else kind

    @property
    def shared_store(self) -> bool:
        """Whether other processes can serve the same store (workers, instances)."""
        return self.store_kind in ("sqlite", "postgresql")


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings with each `ETELECOM_SANDBOX_<FIELD>` variable applied."""
    environ = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for f in fields(Settings):
        raw = environ.get(ENV_PREFIX + f.name.upper())
        if raw is None:
            continue
        changes[f.name] = _parse(f.name, raw, getattr(Settings(), f.name))
    return Settings().with_overrides(**changes)


def _parse(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: cannot read {raw!r}") from None
    return raw
