"""What a run of the kit is pointed at, and under which rules. Filled from pytest options (which
default to `ETELECOM_*` environment variables); the CLI maps its flags onto the same options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_server.hosts import is_local_url as is_local

if TYPE_CHECKING:
    from mock_server.settings import Settings

# Without --max-requests a live run stops after this many requests; local runs have no cap.
LIVE_REQUEST_CAP = 50
PROFILES = ("quick", "default")

# pytest option name -> (environment variable, metavar, help). `--base-url` belongs to
# pytest-base-url, so every option of the kit carries the `--etelecom-` prefix.
OPTIONS: dict[str, tuple[str, str, str]] = {
    "base_url": (
        "ETELECOM_BASE_URL",
        "URL",
        "Root URL of the server to test, e.g. http://127.0.0.1:8080 (the spec's paths are "
        "appended). Empty: an in-process sandbox.",
    ),
    "api_key": ("ETELECOM_API_KEY", "KEY", "The shop's api_key (shop routes)."),
    "partner_key": ("ETELECOM_PARTNER_KEY", "KEY", "The shop's shop_key (partner routes)."),
    "oa_id": ("ETELECOM_OA_ID", "OA_ID", "An OA the shop owns, used in generated requests."),
    "max_requests": (
        "ETELECOM_MAX_REQUESTS",
        "N",
        f"Request cap (live default {LIVE_REQUEST_CAP}).",
    ),
    "profile": ("ETELECOM_PROFILE", "PROFILE", "quick (pre-commit) or default."),
}


@dataclass(frozen=True)
class KitOptions:
    base_url: str = ""
    api_key: str = ""
    partner_key: str = ""
    oa_id: str = ""
    allow_writes: bool = False
    test_phones: tuple[str, ...] = ()
    max_requests: int | None = None
    assume_live: bool = False
    profile: str = "default"
    clock_start: str = "2026-01-01T00:00:00Z"

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}: use one of {', '.join(PROFILES)}")
        if self.max_requests is not None and self.max_requests < 1:
            raise ValueError(f"the request cap must be at least 1 (got {self.max_requests})")

    @property
    def in_process(self) -> bool:
        return not self.base_url

    @property
    def live(self) -> bool:
        return self.assume_live or (bool(self.base_url) and not is_local(self.base_url))

    @property
    def target(self) -> str:
        if self.in_process:
            return "in-process sandbox"
        return f"{self.base_url} ({'live' if self.live else 'local'})"

    @property
    def request_cap(self) -> int | None:
        if self.max_requests is not None:
            return self.max_requests
        return LIVE_REQUEST_CAP if self.live else None

    @property
    def shop_key(self) -> str:
        # Local targets default to the sandbox's demo shop, as `serve` starts with it.
        return self.api_key or ("" if self.live else _demo().demo_api_key)

    @property
    def partner_shop_key(self) -> str:
        return self.partner_key or ("" if self.live else _demo().demo_shop_key)

    @property
    def owned_oa(self) -> str:
        return self.oa_id or ("" if self.live else str(_demo().demo_oa_ids[0]))

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(key for key in (self.api_key, self.partner_key) if key)


_configured = KitOptions()


def configure(options: KitOptions) -> None:
    """The options of this run (the pytest plugin sets them from the command line)."""
    global _configured
    _configured = options


def configured() -> KitOptions:
    return _configured


def _demo() -> Settings:
    # Imported late: this module is loaded with the pytest plugin, in every pytest run.
    from mock_server.settings import Settings

    return Settings()
