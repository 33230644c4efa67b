"""A server process's resident memory (VmRSS, /proc/<pid>/status), sampled every second from a
thread while a figure runs."""

from __future__ import annotations

import threading
import time

from results import RssSample

EVERY_S = 1.0


def rss_kb(pid: int) -> int | None:
    """VmRSS of `pid` in kB; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class RssSampler:
    """Samples `pid` from start() until stop(), at EVERY_S, timed from start()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[RssSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> list[RssSample]:
        """Stop sampling, after one last sample; every sample taken."""
        self._stop.set()
        self._thread.join()
        self._take()
        return self.samples

    def latest(self) -> int | None:
        return self.samples[-1].rss_kb if self.samples else None

    def _run(self) -> None:
        tick = self._started
        while not self._stop.is_set():
            self._take()
            tick += EVERY_S
            self._stop.wait(max(0.0, tick - time.monotonic()))

    def _take(self) -> None:
        kb = rss_kb(self.pid)
        if kb is not None:
            self.samples.append(RssSample(round(time.monotonic() - self._started, 2), kb))
