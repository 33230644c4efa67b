"""Live updates of the inspector: one server-sent event stream per open page.

A page is told that something changed, never what: it then reloads its own view. Changes are
read from counters (the journal's sequence, events applied to consents, webhook attempts) on a
shared beat of ticks PUSH_INTERVAL seconds apart, and pushes are coalesced: at most one per
tick per stream (two a second), however busy the sandbox. Every stream pushes on the same
ticks, so pages open on one view ask for the same version of it and share one rendering.
Each push carries the journal's sequence as its event id, so a page that reconnects (with
Last-Event-ID) is only pushed to if it missed something. Streams end when the client goes
away and when the server shuts down (`close`), so they never hold uvicorn up.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

PUSH_INTERVAL = 0.5  # seconds between ticks; a stream pushes at most once a tick
HEARTBEAT = 15.0  # a comment line when nothing was sent for this long (proxies, dead clients)
RETRY_MS = 1000  # how soon a browser reconnects


class LiveUpdates:
    def __init__(
        self,
        version: Callable[[], tuple[int, ...]],
        seq: Callable[[], int],
        clock: Callable[[], dict[str, Any]],
    ) -> None:
        self._version = version
        self._seq = seq
        self._clock = clock
        self.closed = False
        self.streams = 0
        self._count = threading.Condition()
        self._pushed: tuple[int, bytes] | None = None  # this tick's message, once made

    def close(self) -> None:
        """End every stream (the server is shutting down)."""
        self.closed = True

    def wait_streams(self, count: int, timeout: float) -> bool:
        """Wait until exactly `count` streams are open; whether that happened in time."""
        with self._count:
            return self._count.wait_for(lambda: self.streams == count, timeout)

    def _opened(self, change: int) -> None:
        with self._count:
            self.streams += change
            self._count.notify_all()

    def message(self, tick: int) -> bytes:
        """The push of `tick`, the same for every stream: pages that reload on it name one
        version (`v`) and share one rendering, however many requests came between streams."""
        if self._pushed is not None and self._pushed[0] == tick:
            return self._pushed[1]
        seq = self._seq()
        data = {**self._clock(), "seq": seq, "tick": tick}
        made = b"id: %d\nevent: change\ndata: %s\n\n" % (seq, orjson.dumps(data))
        self._pushed = (tick, made)
        return made

    async def stream(self, last_id: int | None) -> AsyncIterator[bytes]:
        self._opened(+1)
        try:
            yield b"retry: %d\n\n" % RETRY_MS
            # A page that has seen the newest request waits for the next change; any other
            # (new, or one that missed requests while away) is pushed to on the next tick.
            seen = self._version() if last_id is not None and last_id >= self._seq() else None
            last_beat = time.monotonic()
            while not self.closed:
                await asyncio.sleep(PUSH_INTERVAL - time.monotonic() % PUSH_INTERVAL)
                now = time.monotonic()
                current = self._version()
                if self.closed:
                    break
                if current != seen:
                    seen, last_beat = current, now
                    yield self.message(round(now / PUSH_INTERVAL))
                elif now - last_beat >= HEARTBEAT:
                    last_beat = now
                    yield b": still here\n\n"
            yield b"event: closing\ndata: {}\n\n"
        finally:
            self._opened(-1)


def close_streams(app: object) -> None:
    """End the live streams of an app built by build_app (a no-op for any other app)."""
    live = getattr(getattr(app, "state", None), "live", None)
    if isinstance(live, LiveUpdates):
        live.close()
