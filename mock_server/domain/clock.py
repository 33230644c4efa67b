"""The virtual clock: `now` is an anchor plus wall time elapsed since, times a rate.

The domain never reads the wall clock itself; it asks a Clock, and tests move the Clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class ClockState:
    anchor_virtual_ms: int
    anchor_wall_ms: int
    rate: float  # 1.0 real time, 0 frozen

    def at(self, wall: int) -> int:
        return self.anchor_virtual_ms + int((wall - self.anchor_wall_ms) * self.rate)


class Clock:
    """Virtual time that never runs backwards."""

    def __init__(self, state: ClockState, wall: Callable[[], int] = wall_ms) -> None:
        self._state = state
        self._wall = wall
        self._last = state.anchor_virtual_ms

    @classmethod
    def starting(
        cls, start_ms: int | None, rate: float, wall: Callable[[], int] = wall_ms
    ) -> Clock:
        now = wall()
        return cls(ClockState(now if start_ms is None else start_ms, now, rate), wall)

    @property
    def state(self) -> ClockState:
        return self._state

    def now_ms(self) -> int:
        now = max(self._last, self._state.at(self._wall()))
        self._last = now
        return now

    def advance(self, delta_ms: int) -> int:
        if delta_ms < 0:
            raise ValueError("the clock never moves backwards")
        return self.set(self.now_ms() + delta_ms)

    def set(self, instant_ms: int) -> int:
        if instant_ms < self.now_ms():
            raise ValueError("the clock never moves backwards")
        self._state = replace(
            self._state, anchor_virtual_ms=instant_ms, anchor_wall_ms=self._wall()
        )
        self._last = instant_ms
        return instant_ms

    def set_rate(self, rate: float) -> None:
        if rate < 0:
            raise ValueError("the clock rate cannot be negative")
        now = self.now_ms()
        self._state = ClockState(now, self._wall(), rate)
