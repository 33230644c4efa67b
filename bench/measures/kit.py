"""The `kit` figure: `etelecom-sandbox contract --base-url URL`, with its default profile and with
`--quick`, against a served sandbox (the CLI: SQLite on a new file, the clock as the CLI starts
it), over HTTP, timed from spawn to exit.

Where the time went: the CPU of the kit's processes (the command and its pytest child, from this
process's children's rusage), the CPU of the server (/proc), and the rest, which is time neither
was on a CPU: each request's round trip over the loopback and the scheduler's queue on a shared
machine (less any time both ran at once). A fresh sandbox for each profile. The kit's output is
kept beside the results file (`kit-PROFILE.log`); a failed run names its failed tests.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

from harness import servers
from harness.noise import CpuSample, process_cpu
from harness.process import FAILURES, ROOT, Server
from options import Options
from results import KitRun, Run

STORE = "sqlite"  # the CLI's default store
TIMEOUT_S = 3600.0
SENT = re.compile(r"etelecom contract kit: .*?; (\d+) requests sent")
SUMMARY = re.compile(r"contract: (\d+) passed, (\d+) failed, (\d+) errors, (\d+) skipped")
# pytest's short summary: "FAILED path/test_x.py::test_y[id with spaces] - message"
FAILED = re.compile(r"^(?:FAILED|ERROR) (?:\S*/)?(\S+\.py::.+?)(?: - .*)?$", re.MULTILINE)


def kit(run: Run, opts: Options, tmp: Path) -> None:
    print(f"\n[kit] etelecom-sandbox contract --base-url URL, against serve (store {STORE})")
    for profile in opts.kit_profiles:
        try:
            with servers.served(STORE, tmp, frozen=False) as server:
                result = _contract(server, profile, tmp)
        except FAILURES as exc:
            run.problem(f"kit {profile}", exc)
            continue
        run.kits.append(result)
        log = tmp / f"kit-{profile}.log"
        kept = opts.output.parent / log.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, kept)
        if result.exit_code != 0:
            failed = FAILED.findall(log.read_text(errors="replace"))
            names = "; ".join(failed[:10]) or "no test named"
            run.problem(
                f"kit {profile}",
                f"the kit's run failed (exit {result.exit_code}): {names}; output in {kept}",
            )
        print(
            f"  {profile:<8} {result.seconds:7.1f} s  {result.requests or 0:>7,} requests  "
            f"kit CPU {result.kit_cpu_s:6.1f} s  server CPU {result.server_cpu_s:6.1f} s  "
            f"rest {result.rest_s:6.1f} s",
            flush=True,
        )


def _contract(server: Server, profile: str, tmp: Path) -> KitRun:
    argv = [*servers.sandbox_cli(), "contract", "--base-url", server.url]
    argv += ["--quick"] if profile == "quick" else []
    # No ETELECOM_* of this shell reaches the kit (a key, a cap, a profile): the CLI's defaults.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETELECOM_")}
    log = tmp / f"kit-{profile}.log"
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = CpuSample.take(server.pid)
    server_before = process_cpu(server.pid)
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env={**env, **servers.LOCAL_ONLY},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT_S,
            check=False,
        )
    seconds = time.perf_counter() - started
    server_cpu = process_cpu(server.pid) - server_before
    other = CpuSample.take(server.pid).others_since(before)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log.read_text(errors="replace")
    sent = SENT.search(text)
    summary = SUMMARY.search(text)
    counts: list[int | None] = [int(n) for n in summary.groups()] if summary else [None] * 4
    if summary is None:
        print(f"  !! no summary line; the kit's output ends: {text[-500:]!r}", flush=True)
    return KitRun(
        profile=profile,
        store=STORE,
        seconds=round(seconds, 2),
        exit_code=done.returncode,
        requests=int(sent.group(1)) if sent else None,
        passed=counts[0],
        failed=counts[1],
        errors=counts[2],
        skipped=counts[3],
        kit_cpu_s=round(
            (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime), 2
        ),
        server_cpu_s=round(server_cpu, 2),
        other_cpu=other,
    )
