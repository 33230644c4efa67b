"""The virtual clock's operations: getClock and moveClock (set, then advance, then rate)."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.domain.clock import Clock
from mock_server.domain.ports import Store
from mock_server.domain.requests import ClockMove


@dataclass(frozen=True)
class ClockView:
    now: int  # epoch ms
    rate: float

    @property
    def frozen(self) -> bool:
        return self.rate == 0


class ClockService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def get_clock(self) -> ClockView:
        return ClockView(self.clock.now_ms(), self.clock.state.rate)

    def move_clock(self, move: ClockMove) -> ClockView:
        """All of the move or none of it: one transaction."""
        with self.store.transaction():
            if move.set_ms is not None:
                self.clock.set(move.set_ms)
            if move.advance_ms is not None:
                self.clock.advance(move.advance_ms)
            if move.rate is not None:
                self.clock.set_rate(move.rate)
        return self.get_clock()
