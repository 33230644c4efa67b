"""The services: one method per operationId of both APIs (moto's "backend"). They own the
transactions and move the world on before reading or writing; app.py builds them."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.domain.clock import Clock
from mock_server.domain.ports import Store
from mock_server.domain.world import World
from mock_server.services.clock import ClockService
from mock_server.services.consents import ConsentService
from mock_server.services.coverage import CoverageService
from mock_server.services.faults import FaultService
from mock_server.services.inspector import InspectorService
from mock_server.services.loading import LoadService
from mock_server.services.scenarios import ScenarioService
from mock_server.services.shops import ShopService
from mock_server.services.webhooks import WebhookService


@dataclass
class ClockStart:
    start_ms: int | None  # None: the wall clock
    rate: float


@dataclass
class Services:
    store: Store
    clock: Clock
    world: World
    clock_start: ClockStart
    shops: ShopService
    consents: ConsentService
    time: ClockService
    scenarios: ScenarioService
    webhooks: WebhookService
    loading: LoadService
    faults: FaultService
    inspector: InspectorService
    coverage: CoverageService

    def start(self) -> None:
        """Bring a fresh or reopened store to its start state (keeping what it holds)."""
        self.clock.start(self.clock_start.start_ms, self.clock_start.rate)
        self.scenarios.start()
        self.faults.start()
        self.shops.ensure_demo_shop()

    def reset(self) -> None:
        """Back to a fresh start: nothing stored, only the demo shop, the clock as configured.
        One transaction: other processes on the store see the old world or the new one."""
        with self.store.transaction():
            self.store.reset()
            self.coverage.tally.forget()
            self.clock.forget()
            self.start()

    def close(self) -> None:
        self.store.close()
