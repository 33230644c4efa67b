"""The `soak` figure: steady mixed traffic against a served sandbox (SQLite, the default store)
for minutes, with its RSS sampled every second.

A few client threads, paced to `--soak-rate` requests per second in all, send the calls of
bench/soak_mix.py; another thread moves the frozen clock on by CLOCK_STEP every CLOCK_EVERY_S
seconds, so consents are delivered, answered and reach their deadlines, and the demo OA's events
go to a local webhook receiver. The figure is the server's RSS at 20 % of the run and at its end.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from harness import servers
from harness.noise import CpuSample
from harness.process import FAILURES, Server
from harness.receiver import Counted, counting
from harness.rss import RssSampler
from mock_server.spec import load_specs
from options import Options
from results import Run, SoakRun
from soak_mix import DEMO, OA, WIRE, Call, Mix, Shared

STORE = "sqlite"
THREADS = 4
CLOCK_STEP = "30m"
CLOCK_EVERY_S = 5.0
PROGRESS_EVERY_S = 60.0
TIMEOUT_S = 30.0
LAG_S = 1.0  # a thread further behind its pace than this starts again from now (no bursts)
SHOWN = 200
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}


def soak(run: Run, opts: Options, tmp: Path) -> None:
    print(
        f"\n[soak] sandbox/{STORE}, {opts.soak_seconds} s of mixed traffic at "
        f"{opts.soak_rate:.0f} req/s ({THREADS} threads), clock +{CLOCK_STEP} every "
        f"{CLOCK_EVERY_S:.0f} s, RSS every second"
    )
    try:
        with counting() as hook, servers.served(STORE, tmp) as server:
            result = _soak(server, hook, opts.soak_seconds, opts.soak_rate)
    except FAILURES as exc:
        run.problem("soak", exc)
        return
    except httpx.HTTPError as exc:
        run.problem("soak", f"the set-up failed: {type(exc).__name__}: {exc}")
        return
    run.soaks.append(result)
    growth = result.growth_pct
    print(
        f"  RSS {_mb(result.rss_at(0.2))} at 20 %, {_mb(result.rss_at(1.0))} at the end "
        f"({'-' if growth is None else f'{growth:+.1f} %'}); {result.rps:,.0f} req/s; "
        f"{sum(result.non_2xx.values())} non-2xx; {result.events_received:,} webhook events",
        flush=True,
    )


class Tally:
    """One thread's counts (merged at the end, so no locks)."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.non_2xx: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.sent = 0  # read by the progress line while the thread runs
        self.failed = 0

    def answer(self, operation: str, body: Any, status: int, text: str) -> None:
        self.requests[operation] += 1
        self.sent += 1
        if not 200 <= status < 300:
            self.failed += 1
            kind = f"{operation} -> {status}"
            self.non_2xx[kind] += 1
            self.examples.setdefault(kind, f"{str(body)[:SHOWN]}: {text[:SHOWN]}")


def _soak(server: Server, hook: Counted, seconds: int, rate: float) -> SoakRun:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT_S, trust_env=False) as http:
        target = {"oa_id": OA, "webhook_url": hook.url}
        http.post(WIRE + "UpdateShopOA", json=target, headers=AUTH).raise_for_status()
        clock = http.get("/_sandbox/clock")
        clock.raise_for_status()
        shared = Shared(load_specs().wire, str(clock.json()["now"]))
        stop = threading.Event()
        tallies = [Tally() for _ in range(THREADS + 1)]
        workers = [
            threading.Thread(target=_client, args=(server.url, shared, n, rate, stop, tallies[n]))
            for n in range(THREADS)
        ]
        workers.append(
            threading.Thread(target=_clock, args=(server.url, shared, stop, tallies[THREADS]))
        )
        sampler = RssSampler(server.pid)
        before = CpuSample.take(server.pid)
        started = time.monotonic()
        sampler.start()
        for worker in workers:
            worker.start()
        _wait(seconds, started, stop, tallies, sampler)
        stop.set()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        samples = sampler.stop()
        other = CpuSample.take(server.pid).others_since(before)
        drained = http.post("/_sandbox/webhooks/drain", json={})
        outbox = drained.json() if drained.status_code == 200 else {"drain": drained.status_code}
    requests, non_2xx, examples = _merge(tallies)
    return SoakRun(
        store=STORE,
        seconds=round(elapsed, 1),
        threads=THREADS,
        rate=rate,
        requests=dict(requests),
        non_2xx=dict(non_2xx),
        examples=examples,
        clock_moves=requests.get("clock", 0),
        events_received=hook.events,
        outbox={str(k): int(v) for k, v in outbox.items()},
        rss=samples,
        other_cpu=other,
    )


def _wait(
    seconds: int, started: float, stop: threading.Event, tallies: list[Tally], rss: RssSampler
) -> None:
    """Until the run's end, a progress line every PROGRESS_EVERY_S."""
    end = started + seconds
    while not stop.wait(min(PROGRESS_EVERY_S, max(0.0, end - time.monotonic()))):
        now = time.monotonic()
        sent = sum(t.sent for t in tallies)
        failed = sum(t.failed for t in tallies)
        print(
            f"    {now - started:5.0f} s  {sent:>9,} requests  {sent / (now - started):6.0f} "
            f"req/s  {failed} non-2xx  RSS {_mb(rss.latest())}",
            flush=True,
        )
        if now >= end:
            return


def _client(
    url: str, shared: Shared, n: int, rate: float, stop: threading.Event, tally: Tally
) -> None:
    """One client thread: the mix's calls, paced to rate / THREADS per second."""
    interval = THREADS / rate
    mix = Mix(shared, n)
    calls = mix.calls()
    due = time.monotonic() + interval * n / THREADS  # threads spread over one interval
    with httpx.Client(base_url=url, timeout=TIMEOUT_S, trust_env=False, headers=AUTH) as http:
        while not stop.wait(max(0.0, due - time.monotonic())):
            due = max(due + interval, time.monotonic() - LAG_S)
            call = next(calls)
            _send(http, call, mix, tally)


def _send(http: httpx.Client, call: Call, mix: Mix, tally: Tally) -> None:
    try:
        answer = http.post(call.path, json=call.body)
    except httpx.HTTPError as exc:
        tally.answer(call.operation, call.body, 599, f"{type(exc).__name__}: {exc}")
        return
    tally.answer(call.operation, call.body, answer.status_code, answer.text)
    if answer.status_code != 200:
        return
    if call.phone:
        mix.shared.asked(call.phone)
    if call.walk:
        mix.walked(answer.json())


def _clock(url: str, shared: Shared, stop: threading.Event, tally: Tally) -> None:
    """Move the clock on by CLOCK_STEP every CLOCK_EVERY_S, and tell the clients the time."""
    body = {"advance": CLOCK_STEP}
    with httpx.Client(base_url=url, timeout=TIMEOUT_S, trust_env=False) as http:
        while not stop.wait(CLOCK_EVERY_S):
            try:
                answer = http.post("/_sandbox/clock", json=body)
            except httpx.HTTPError as exc:
                tally.answer("clock", body, 599, f"{type(exc).__name__}: {exc}")
                continue
            tally.answer("clock", body, answer.status_code, answer.text)
            if answer.status_code == 200:
                shared.now = str(answer.json()["now"])


def _merge(tallies: list[Tally]) -> tuple[Counter[str], Counter[str], dict[str, str]]:
    requests: Counter[str] = Counter()
    non_2xx: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for tally in tallies:
        requests.update(tally.requests)
        non_2xx.update(tally.non_2xx)
        for kind, example in tally.examples.items():
            examples.setdefault(kind, example)
    return requests, non_2xx, examples


def _mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.1f} MB"
