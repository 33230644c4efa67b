"""Group commit: the write transactions of requests served in one event-loop tick share one
COMMIT, which is what a SQLite write costs most (the WAL pages of every index touched). Each
request's work is a savepoint inside the shared transaction, so a request that fails undoes
only its own; each answers only after the shared COMMIT, so nothing acknowledged can be lost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Group:
    """One open shared transaction and the requests waiting for its commit."""

    def __init__(self, commit: Callable[[], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self._commit = commit
        # At the end of the tick: requests already running in it join before the commit.
        self.loop.call_soon(self.close)

    def close(self) -> None:
        """Commit now (from the loop, or early from a caller that cannot wait)."""
        if self.done.done():
            return
        try:
            self._commit()
        except BaseException as exc:
            self._settle(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            self._settle(None)

    def _settle(self, error: BaseException | None) -> None:
        def settle() -> None:
            if self.done.done():
                return
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            settle()
        else:
            self.loop.call_soon_threadsafe(settle)


async def nothing_pending() -> None:
    """What `committed()` is when no shared commit is open."""
