"""How much CPU everything else on the machine used while a figure was taken.

Busy time from /proc/stat, minus the CPU time of the server under test, of run.py and of its
finished children (wrk, CLI commands). On a shared machine this tells a quiet figure from a
disturbed one.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
NOISY_CPU = 0.25  # cores other processes may use during a run before its figure is flagged


@dataclass(frozen=True)
class CpuSample:
    at: float
    busy: float  # machine-wide busy CPU seconds (/proc/stat)
    ours: float  # CPU seconds of the server, of finished children and of this process

    @classmethod
    def take(cls, server_pid: int | None = None, helpers: Sequence[int] = ()) -> CpuSample:
        now = time.monotonic()
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
            busy = (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS  # minus idle and iowait
            server = 0.0 if server_pid is None else _process_cpu(server_pid)
            server += sum(_helper_cpu(pid) for pid in helpers)
        except (OSError, ValueError, IndexError):
            return cls(now, math.nan, math.nan)
        me = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        mine = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        return cls(now, busy, server + mine)

    def others_since(self, before: CpuSample) -> float | None:
        """Cores used by other processes between the two samples, on average."""
        elapsed = self.at - before.at
        others = (self.busy - before.busy) - (self.ours - before.ours)
        if elapsed <= 0 or math.isnan(others):  # NaN: /proc was not readable
            return None
        return round(max(0.0, others / elapsed), 2)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    return _process_cpu(pid)


def server_cpu(pid: int, workers: Sequence[int] = ()) -> float:
    """CPU seconds a server and its worker processes have used so far."""
    return _process_cpu(pid) + sum(_helper_cpu(worker) for worker in workers)


def _helper_cpu(pid: int) -> float:
    try:
        return _process_cpu(pid)
    except (OSError, ValueError, IndexError):  # it ended meanwhile
        return 0.0


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        parts = stat.read().rpartition(")")[2].split()
    return (int(parts[11]) + int(parts[12])) / _TICKS  # utime + stime
