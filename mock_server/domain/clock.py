"""The virtual clock: `now` is an anchor plus wall time elapsed since, times a rate.

The domain never reads the wall clock itself; it asks a Clock, and tests move the Clock. The
clock's state is kept in the store and read on every `now`, so a restarted sandbox, or two
workers on one SQLite file, agree on the time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from mock_server.domain.errors import Conflict
from mock_server.domain.ports import MetaStore
from mock_server.domain.timefmt import LAST_MS, format_rfc3339, later

CLOCK_META = "clock"
MAX_TRIES = 100


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class ClockState:
    anchor_virtual_ms: int
    anchor_wall_ms: int
    rate: float  # 1.0 real time, 0 frozen

    def at(self, wall: int) -> int:
        moved = self.anchor_virtual_ms + int((wall - self.anchor_wall_ms) * self.rate)
        return moved if moved < LAST_MS else LAST_MS  # a fast clock stops at the end of time


class Clock:
    """Virtual time that never runs backwards."""

    def __init__(self, store: MetaStore, wall: Callable[[], int] = wall_ms) -> None:
        self._store = store
        self._wall = wall
        self._raw = ""
        self._state = ClockState(0, 0, 0.0)
        self._last = 0

    def start(self, start_ms: int | None, rate: float) -> None:
        """Set the clock unless the store already has one (a restart keeps its time)."""
        if self._store.get_meta(CLOCK_META) is None:
            now = self._wall()
            state = ClockState(now if start_ms is None else start_ms, now, rate)
            self._store.replace_meta(CLOCK_META, None, _dump(state))  # or another's start

    @property
    def state(self) -> ClockState:
        return self._load(self._store.get_meta(CLOCK_META))

    def _load(self, raw: str | None) -> ClockState:
        raw = raw or ""
        if raw != self._raw:
            # A new state (set here, or by another worker, or a reset): time follows it, and
            # the guard against the wall clock stepping back starts again.
            self._raw, self._state, self._last = raw, ClockState(**json.loads(raw)), 0
        return self._state

    def now_ms(self) -> int:
        return self._now(self.state)  # the state first: a new one resets the guard

    def _now(self, state: ClockState) -> int:
        now = max(self._last, state.at(self._wall()))
        self._last = now
        return now

    def advance(self, delta_ms: int) -> int:
        """Move on by `delta_ms`; past the end of time the clock stops there."""
        return self._change(lambda state, now: (later(now, delta_ms), state.rate))

    def set(self, instant_ms: int) -> int:
        """Move to an instant (past the end of time: to its end); never backwards."""
        return self._change(lambda state, now: (instant_ms, state.rate))

    def set_rate(self, rate: float) -> None:
        self._change(lambda state, now: (now, rate))

    def _change(self, target: Callable[[ClockState, int], tuple[int, float]]) -> int:
        """Read the clock, compute its new anchor and rate, and save them unless another
        process changed the clock meanwhile; then start again from its change (so two moves
        at once both count). `now` is read once per try: a fast clock would otherwise run past
        a target just computed."""
        for _ in range(MAX_TRIES):
            raw = self._store.get_meta(CLOCK_META)
            state = self._load(raw)
            now = self._now(state)
            instant_ms, rate = target(state, now)
            instant_ms = min(instant_ms, LAST_MS)
            if instant_ms < now:
                raise Conflict(
                    f"set: the clock never moves backwards (it is {format_rfc3339(now)}, "
                    f"asked {format_rfc3339(instant_ms)})",
                    "set",
                )
            new = _dump(ClockState(instant_ms, self._wall(), rate))
            if self._store.replace_meta(CLOCK_META, raw, new):
                return instant_ms
        raise Conflict("the clock is being moved by others too often: try again", "set")

    def forget(self) -> None:
        """After a store reset: time may start again from the configured instant."""
        self._last = 0


def _dump(state: ClockState) -> str:
    return json.dumps(asdict(state))
