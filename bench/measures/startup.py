"""The `startup` figure: how long `etelecom-sandbox serve --port 0` takes from spawn to its
readiness line, on the memory store and on SQLite (a new file each time), beside
`python -c "import mock_server"` and a bare `python -c pass` (spawn to exit).

The four commands take turns, run after run, so a busy moment of the shared machine falls on
all of them alike and shows as the interpreter's own start growing too. One untimed run of each
comes first (bytecode caches written, files in the page cache).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

from harness import servers
from harness.noise import CpuSample, process_cpu
from harness.process import FAILURES, ROOT, child_env, running
from options import Options
from results import Run, Startup

TIMEOUT_S = 60.0


def startup(run: Run, opts: Options, tmp: Path) -> None:
    cli = servers.sandbox_cli()
    figures = [
        Startup("serve --store memory --port 0", "memory", [*cli, "serve", "--store", "memory"]),
        Startup("serve --store sqlite:NEW --port 0", "sqlite", [*cli, "serve"]),
        Startup('python -c "import mock_server"', "", [sys.executable, "-c", "import mock_server"]),
        Startup("python -c pass", "", [sys.executable, "-c", "pass"]),
    ]
    print(f"\n[startup] {opts.startup_runs} runs of each, in turn, after one untimed run")
    before = CpuSample.take()
    try:
        for n in range(opts.startup_runs + 1):
            for figure in figures:
                seconds, cpu = _once(figure, tmp, n)
                if n:  # the first round warms up
                    figure.seconds.append(round(seconds, 4))
                    figure.cpu_s.append(round(cpu, 3))
    except FAILURES as exc:
        run.problem("startup", exc)
        return
    other = CpuSample.take().others_since(before)
    for figure in figures:
        figure.other_cpu = other
        run.startups.append(figure)
        print(
            f"  {figure.what:<36} median {figure.median_s or 0:.3f} s  "
            f"min {figure.min_s or 0:.3f} s  CPU {figure.median_cpu_s or 0:.3f} s",
            flush=True,
        )


def _once(figure: Startup, tmp: Path, n: int) -> tuple[float, float]:
    """One start: (seconds to the readiness line or exit, CPU seconds used by then)."""
    if figure.store:
        argv = [*figure.argv, "--port", "0"]
        path = tmp / f"startup-{n}.sqlite3"
        if figure.store == "sqlite":
            argv += ["--store", f"sqlite:{path}"]
        try:
            with running(f"startup-{figure.store}", argv, tmp) as server:
                return server.ready_s, process_cpu(server.pid)
        finally:
            for leftover in tmp.glob(f"{path.name}*"):  # the file and its -wal, -shm
                leftover.unlink()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        figure.argv,
        cwd=ROOT,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{figure.what}: exit {done.returncode}: {done.stderr[-300:]!r}")
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return seconds, cpu
