"""A per-request CPU profile of the sandbox, in this process, through its ASGI app (no network, no
HTTP client): RequestConsent (distinct phones) and a ListRequestConsent page (phone filter, 100
items of 10,000 stored), each as CPU microseconds per request and the functions that take it.

    python bench/profile.py [--store sqlite|memory] [--requests 2000] [--passes 5]
                            [--concurrency 1] [--top 15]
    /tmp/venv-of-another-checkout/bin/python bench/profile.py --root /path/to/that/checkout

It uses only `mock_server.create_app` and `mock_server.Settings` (and the wire and control APIs),
so the same script profiles an older checkout (`--root`, with that checkout's own environment):
the "before" and "after" of bench/README.md's Profiles.

What is measured: the sandbox with the demo shop and 10,000 consents (200 of them on the listed
phone), its clock frozen (nothing falls due while it is measured). Each operation runs `--passes`
passes of `--requests` requests unprofiled, each pass timed with time.process_time (CPU, which
other processes on a shared machine disturb far less than wall time, though they still do: a
busy sibling core slows this one), reported as the least and the median of the passes; then one
pass again under cProfile. Every RequestConsent stores a new consent, so the store grows by
`--requests` per pass (from 10,000 to about 22,000 with the defaults). The profile shows own
time by layer (http, services, domain, store, starlette, other), a C function's (sqlite3's
execute, orjson, the schema validator) counted in the layer of the Python function that called
it, and the top functions by own time. The requests are ASGI calls made here: the server's work
only, not a client's. `--concurrency N` keeps N requests in flight (as wrk's connections do; on
SQLite they then share commits).

This file is named as the task asks, and so shadows the standard library's `profile` (which
cProfile imports): it takes bench/ off sys.path before anything else is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
# Before bench/ leaves sys.path: it imports no `profile` of its own.
from asgi_calls import ASGIApp, Client, Lifespan, encode  # noqa: E402

sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

STORED = 10_000
HOT_PHONE = "0912345678"
HOT_COUNT = 200
PAGE_LIMIT = 100
OA = "1234567890123456789"  # the demo shop's OA (Settings().demo_oa_ids)
CLOCK_START = "2026-01-01T00:00:00Z"
RC_PATH = "/v1/shop.Zalo/RequestConsent"
LIST_PATH = "/v1/shop.Zalo/ListRequestConsent"
LAYERS = ("http", "services", "domain", "store", "starlette", "other", "driver")
# This script and its ASGI calls (asgi_calls.py): the "driver" layer.
DRIVER = {str(Path(__file__).resolve()), str(Path(_HERE) / "asgi_calls.py")}
# Packages of mock_server that are a layer; 0bfa533 kept its edge and its services in flat
# modules, named here. Anything else of mock_server (settings, spec, app wiring) is "other".
LAYER_DIRS = {"http", "services", "domain", "store"}
FLAT = {
    "api": "http",
    "edge": "http",
    "wire": "http",
    "journal": "http",
    "twirp": "http",
    "validation": "http",
    "control": "http",
    "control_handlers": "http",
    "sandbox": "services",
    "webhooks": "services",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="the checkout to profile [this one]")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--requests", type=int, default=2000, help="per operation and pass")
    parser.add_argument("--passes", type=int, default=5, help="unprofiled passes, each timed")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight")
    parser.add_argument("--top", type=int, default=15, help="functions shown per operation")
    args = parser.parse_args(argv)
    if args.root:
        sys.path.insert(0, str(args.root.resolve()))
    asyncio.run(_profile(args))


async def _profile(args: argparse.Namespace) -> None:
    import mock_server
    from mock_server import Settings, create_app

    with tempfile.TemporaryDirectory(prefix="etelecom-profile-") as tmp:
        store = f"sqlite:{Path(tmp) / 'profile.sqlite3'}" if args.store == "sqlite" else "memory"
        settings = Settings(store=store, clock_start=CLOCK_START, clock_rate=0)
        app: ASGIApp = create_app(settings)
        client = Client(app, Settings().demo_api_key)
        async with Lifespan(app):
            started = time.perf_counter()
            await fill(client)
            print(
                f"code {Path(mock_server.__file__).resolve().parents[1]}, store {args.store}, "
                f"{STORED:,} consents stored in {time.perf_counter() - started:.1f} s; "
                f"{args.passes} passes of {args.requests:,} requests (and one under cProfile), "
                f"{args.concurrency} in flight"
            )
            phones = (f"097{n:07d}" for n in range(10_000_000))

            def consent() -> tuple[str, bytes]:
                body = {"oa_id": OA, "phone": next(phones), "call_type": "audio"}
                return RC_PATH, encode({**body, "reason_code": "update_order"})

            def page() -> tuple[str, bytes]:
                return LIST_PATH, encode(
                    {"filter": {"phone": HOT_PHONE}, "paging": {"limit": PAGE_LIMIT}}
                )

            for title, make in (
                ("RequestConsent (distinct phones)", consent),
                (f"ListRequestConsent (phone, {PAGE_LIMIT} items of {STORED:,})", page),
            ):
                result = await measure(client, make, args.requests, args.passes, args.concurrency)
                report(title, result, args.top)


async def fill(client: Client) -> None:
    """The listed phone's HOT_COUNT consents (the clock moved past each one's deadline, so the
    next is no duplicate of a waiting one), then other phones' up to STORED."""
    for _ in range(HOT_COUNT):
        body = {"oa_id": OA, "phone": HOT_PHONE, "call_type": "video"}
        await client.ok(RC_PATH, {**body, "reason_code": "product_service_consulting"})
        await client.ok("/_sandbox/clock", {"advance": "25h"})
    for n in range(STORED - HOT_COUNT):
        body = {"oa_id": OA, "phone": f"098{n:07d}", "call_type": "audio"}
        await client.ok(RC_PATH, {**body, "reason_code": "update_order"})
    listed = json.loads(await client.ok(LIST_PATH, {"filter": {"phone": HOT_PHONE}}))
    if len(listed["consents"]) != PAGE_LIMIT:
        raise SystemExit(f"the page holds {len(listed['consents'])} consents, not {PAGE_LIMIT}")


@dataclass
class Result:
    requests: int  # per pass
    passes: list[float]  # CPU µs per request of each unprofiled pass
    profiled_cpu_us: float  # per request, under cProfile
    stats: pstats.Stats

    @property
    def cpu_us(self) -> float:
        """The least disturbed pass: what a request costs when the machine lets it run."""
        return min(self.passes)

    @property
    def median_us(self) -> float:
        return statistics.median(self.passes)


async def measure(
    client: Client,
    make: Callable[[], tuple[str, bytes]],
    requests: int,
    passes: int,
    concurrency: int,
) -> Result:
    """A tenth of `requests` to warm up, `passes` passes of `requests` calls unprofiled, then
    one under cProfile; every request body is made before its pass starts."""
    rounds = max(1, requests // concurrency)

    def bodies(count: int) -> list[list[tuple[str, bytes]]]:
        return [[make() for _ in range(concurrency)] for _ in range(count)]

    async def one(batch: list[tuple[str, bytes]]) -> None:
        if len(batch) == 1:
            await client.ok(*batch[0])
        else:
            await asyncio.gather(*(client.ok(path, raw) for path, raw in batch))

    for batch in bodies(max(1, rounds // 10)):  # warm-up: caches filled, code paths taken
        await one(batch)
    cpu_us: list[float] = []
    for _ in range(max(1, passes)):
        timed = bodies(rounds)
        started = time.process_time()
        for batch in timed:
            await one(batch)
        cpu_us.append((time.process_time() - started) / (rounds * concurrency) * 1e6)
    timed = bodies(rounds)
    profiler = cProfile.Profile(time.process_time)  # CPU time, as the figure above
    started = time.process_time()
    profiler.enable()
    for batch in timed:
        await one(batch)
    profiler.disable()
    profiled_us = (time.process_time() - started) / (rounds * concurrency) * 1e6
    return Result(rounds * concurrency, cpu_us, profiled_us, pstats.Stats(profiler))


def layer_of(filename: str) -> str:
    """The layer a function's file belongs to ("" for a C function: its caller's)."""
    if filename == "~" or filename.startswith("<"):
        return ""
    if filename in DRIVER:
        return "driver"
    path = filename.replace("\\", "/")
    if "/starlette/" in path:
        return "starlette"
    if "/mock_server/" not in path:
        return "other"
    parts = path.rsplit("/mock_server/", 1)[1].split("/")
    if len(parts) > 1:
        return parts[0] if parts[0] in LAYER_DIRS else "other"
    return FLAT.get(parts[0].removesuffix(".py"), "other")


def by_layer(stats: pstats.Stats) -> dict[str, float]:
    """Own time (s) per layer; a C function's own time is split between its callers' layers."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, callers) in raw.items():
        layer = layer_of(filename)
        if layer:
            totals[layer] += own
            continue
        shares = {k: v[2] for k, v in callers.items()}  # each caller's share of the own time
        whole = sum(shares.values())
        if not whole:
            totals["other"] += own
            continue
        for caller, share in shares.items():
            totals[layer_of(caller[0]) or "other"] += own * share / whole
    return totals


def report(title: str, result: Result, top: int) -> None:
    print(f"\n## {title}")
    print(
        f"{result.cpu_us:,.0f} µs CPU per request: the least of {len(result.passes)} passes of "
        f"{result.requests:,} (median {result.median_us:,.0f}; every pass: "
        + ", ".join(f"{us:,.0f}" for us in result.passes)
        + f"); {result.profiled_cpu_us:,.0f} µs under cProfile, whose shares follow "
        "(µs/req below: a share of the least pass)"
    )
    totals = by_layer(result.stats)
    whole = sum(totals.values()) or 1.0
    print(
        "by layer (own time; C functions in their caller's layer): "
        + ", ".join(f"{name} {totals.get(name, 0.0) / whole:.0%}" for name in LAYERS)
    )
    raw: dict[Any, Any] = result.stats.stats  # type: ignore[attr-defined]
    rows = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    print("| ≈ own µs/req | share | calls/req | layer | function |")
    print("|---:|---:|---:|---|---|")
    for (filename, line, name), (_, calls, own, _, callers) in rows:
        layer = (
            layer_of(filename)
            or "C, from "
            + (
                max(
                    ((layer_of(k[0]) or "other", v[2]) for k, v in callers.items()),
                    key=lambda kv: kv[1],
                    default=("other", 0.0),
                )[0]
            )
        )
        where = name if filename == "~" else f"{_short(filename)}:{line} {name}"
        print(
            f"| {own / whole * result.cpu_us:,.1f} | {own / whole:.1%} | "
            f"{calls / result.requests:.1f} | "
            f"{layer} | `{where}` |"
        )


def _short(filename: str) -> str:
    """mock_server/…, a package's path in site-packages, or the standard library's."""
    path = filename.replace("\\", "/")
    if "/mock_server/" in path:
        return "mock_server/" + path.rsplit("/mock_server/", 1)[1]
    if "/site-packages/" in path:
        return path.rsplit("/site-packages/", 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


if __name__ == "__main__":
    main()
