"""Fault rules on webhook deliveries, as the sender applies them: a decision per attempt, and
the holds a delay or a reorder leaves on an event.

A hold is kept in the store beside the outbox (so a restart or another worker honours it): a
delay holds the event, and the OA's later ones behind it, until a wall-clock or virtual
instant; a reorder holds it until the OA's next event has gone out first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from mock_server.domain.clock import Clock
from mock_server.domain.faults import DELAY, REORDER, VIRTUAL, WALL, Delivery, DeliveryFault
from mock_server.domain.model import OutboxEntry
from mock_server.domain.ports import MetaStore
from mock_server.services.faults import FaultService

HOLD_PREFIX = "faults:hold:"


@dataclass(frozen=True)
class Hold:
    rule_id: str
    action: str  # DELAY or REORDER
    until: float = 0.0  # wall seconds (clock "wall") or virtual ms (clock "virtual")
    clock: str = WALL


class DeliveryFaults:
    def __init__(
        self,
        store: MetaStore,
        clock: Clock,
        faults: FaultService,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.faults = faults
        self.wall = wall

    def holds(self) -> dict[int, Hold]:
        """Every held event, by outbox id."""
        return {
            int(key.removeprefix(HOLD_PREFIX)): Hold(**json.loads(raw))
            for key, raw in self.store.meta_items(HOLD_PREFIX)
        }

    def decide(self, entry: OutboxEntry) -> DeliveryFault | None:
        """What happens to this attempt at `entry` (None: it goes out as usual)."""
        event = json.loads(entry.payload)
        delivery = Delivery(
            event=str(event.get("event_name", "")),
            url=entry.url,
            shop_id=entry.shop_id,
            oa_id=entry.oa_id,
            phone=event.get("phone") or None,
        )
        return self.faults.decide_delivery(delivery)

    def hold(self, entry: OutboxEntry, fault: DeliveryFault) -> Hold:
        """Hold `entry` as a delay or reorder fault says."""
        if fault.action == REORDER:
            hold = Hold(fault.rule_id, REORDER)
        elif fault.clock == VIRTUAL:
            hold = Hold(fault.rule_id, DELAY, self.clock.now_ms() + fault.delay_ms, VIRTUAL)
        else:
            hold = Hold(fault.rule_id, DELAY, self.wall() + fault.delay_ms / 1000, WALL)
        self.store.set_meta(f"{HOLD_PREFIX}{entry.id}", json.dumps(asdict(hold)))
        return hold

    def release(self, entry_id: int) -> None:
        self.store.set_meta(f"{HOLD_PREFIX}{entry_id}", None)

    def over(self, hold: Hold, skip_wall: bool) -> bool:
        """Whether a delay hold has ended (a drain skips wall-clock waits, as it skips backoff;
        a virtual one waits for the clock)."""
        if hold.clock == VIRTUAL:
            return self.clock.now_ms() >= hold.until
        return skip_wall or self.wall() >= hold.until
