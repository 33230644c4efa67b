"""One kit per test run: the options, the guard, the gateway to the target and the clients.

The pytest plugin configures it from the command line; the test modules read it when they are
imported (schemathesis needs the schema, bound to the gateway, at collection time).
"""

from __future__ import annotations

from functools import cached_property

from contract_tests.client import ControlClient, WireClient
from contract_tests.gateway import Gateway, Relay
from contract_tests.guard import Guard
from contract_tests.options import KitOptions, configured
from contract_tests.profiles import PROFILES, Profile
from contract_tests.specfacts import SpecFacts, facts
from mock_server import Settings, create_app


class Kit:
    def __init__(self, options: KitOptions, read_only: bool = False) -> None:
        """`read_only` applies the live rules whatever the target: only reads are sent."""
        self.options = options
        self.facts: SpecFacts = facts()
        self.guard = Guard(
            self.facts,
            live=options.live or read_only,
            allow_writes=options.allow_writes,
            test_phones=options.test_phones,
            max_requests=options.request_cap,
        )
        self.relay = None if options.in_process else Relay(options.base_url)
        target = self.relay or create_app(
            Settings(store="memory", clock_rate=0, clock_start=options.clock_start)
        )
        self.gateway = Gateway(target, self.guard, in_process=self.relay is None)
        self.http = self.gateway.client()
        self.wire = WireClient(
            self.http,
            self.facts,
            options.shop_key,
            options.partner_shop_key,
            options.owned_oa,
        )
        self.control = ControlClient(self.http)

    @property
    def profile(self) -> Profile:
        return PROFILES[self.options.profile]

    @cached_property
    def has_control_api(self) -> bool:
        """Whether the target is a sandbox we may drive (never asked of a live target)."""
        return not self.guard.live and self.control.available()

    def close(self) -> None:
        self.http.close()
        if self.relay is not None:
            self.relay.close()


_kit: Kit | None = None


def current() -> Kit:
    """The run's kit, built on first use from the configured options."""
    global _kit
    if _kit is None:
        _kit = Kit(configured())
    return _kit


def active() -> Kit | None:
    return _kit


def close() -> None:
    global _kit
    if _kit is not None:
        _kit.close()
        _kit = None
