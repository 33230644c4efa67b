"""What the HTTP edge costs a RequestConsent, step by step, in this process (no socket).

    python bench/edge_costs.py [--calls 20000] [--passes 5]

Issue 11 asks what Starlette's routing, the journal and the validators cost a request, and
that what does not pay for itself be cut. Two measures, on the memory store with its clock
frozen (the store's own work kept small, so the edge is what shows):

- **Whole requests**: RequestConsent (distinct phones) through the app as it serves, where the
  wire API's common case takes the plain-ASGI path (`http/fast_wire.py`), and through the same
  app with that path off, so Starlette routes it (request object, middleware, endpoint,
  response object). The difference is what the plain path saves.
- **Each step alone**: the steps the plain path takes for one RequestConsent, each called
  `--calls` times with the same inputs: the key's lookup, the JSON decode, the fault gate, the
  coverage count, the request schema's validator, the answer's encoding and the journal entry
  (with its key redaction).

Each figure is CPU (time.process_time) per call, the least of `--passes` passes, with the
median beside it: on a shared machine the least pass is what a call costs when it can run. The
two kinds of whole request take turns, pass by pass, with the garbage collector tuned as
`serve` tunes it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

import orjson

from asgi_calls import Client, Lifespan
from mock_server import Settings, collector, create_app
from mock_server.http.asgi import SandboxApp
from mock_server.http.bodies import encoded, json_object

RC_PATH = "/v1/shop.Zalo/RequestConsent"
CLOCK_START = "2026-01-01T00:00:00Z"
PLAIN, STARLETTE = "plain ASGI path (as served)", "through Starlette"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per pass")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    collector.serving()  # the garbage collector tuned as `serve` tunes it
    asyncio.run(_report(args.calls, args.passes))


async def _report(calls: int, passes: int) -> None:
    settings = Settings(store="memory", clock_start=CLOCK_START, clock_rate=0)
    app = create_app(settings)
    assert isinstance(app, SandboxApp) and app.fast_wire is not None
    fast = app.fast_wire
    client = Client(app, settings.demo_api_key)
    oa = str(settings.demo_oa_ids[0])
    phones = (f"097{n:07d}" for n in range(10_000_000))

    def body() -> bytes:
        wanted = {"oa_id": oa, "phone": next(phones), "call_type": "audio"}
        return orjson.dumps({**wanted, "reason_code": "update_order"})

    async with Lifespan(app):
        print(f"{passes} passes; µs of CPU per call: least (median)\n")
        print("| RequestConsent, memory store, in-process | µs per request |")
        print("|---|---:|")
        whole: dict[str, list[float]] = {PLAIN: [], STARLETTE: []}
        for _ in range(passes):  # in turn: the store grows as they run, alike for both
            for name, path in ((PLAIN, fast), (STARLETTE, None)):
                app.fast_wire = path
                whole[name].append(await _timed_requests(client, body, calls // 4))
        app.fast_wire = fast
        for name, taken in whole.items():
            print(f"| {name} | {_shown(taken)} |")
        saved = min(whole[STARLETTE]) - min(whole[PLAIN])
        print(f"| what the plain path saves | {saved:.1f} |\n")

        route = fast.routes[RC_PATH]
        shops = fast.services.shops
        shop = shops.authenticate(settings.demo_api_key, route.operation.partner)
        raw = body()
        data = json_object(raw)
        answer = route.handler(shop, json_object(body()))
        payload = encoded(answer)
        scope = client.scope(RC_PATH, raw)
        bearer = settings.demo_api_key.encode()
        validator = route.validator
        assert validator is not None
        steps: dict[str, Callable[[], object]] = {
            "the key's lookup (`shops.authenticate`)": lambda: shops.authenticate(
                settings.demo_api_key, route.operation.partner
            ),
            "the JSON decode (`json_object`)": lambda: json_object(raw),
            "the fault gate, no rules (`could_touch`)": lambda: fast.gate.could_touch(
                route.operation, shop, data
            ),
            "the coverage count (`coverage.arrived`)": lambda: fast.coverage.arrived(
                scope, route.operation.name, shop.shop_id
            ),
            "the request schema's validator": lambda: validator.validate(data),
            "the answer's encoding (`encoded`)": lambda: encoded(answer),
            "the journal entry, with its redaction": lambda: fast._journal(
                scope, b"application/json", bearer, 200, raw, payload, time.perf_counter()
            ),
        }
        print("| one step of the plain path, alone | µs per call |")
        print("|---|---:|")
        for name, step in steps.items():
            print(f"| {name} | {_shown(_timed_calls(step, calls, passes))} |")


def _shown(passes: list[float]) -> str:
    return f"{min(passes):.2f} ({statistics.median(passes):.2f})"


def _timed_calls(step: Callable[[], object], calls: int, passes: int) -> list[float]:
    for _ in range(calls // 10):
        step()
    out = []
    for _ in range(passes):
        started = time.process_time()
        for _ in range(calls):
            step()
        out.append((time.process_time() - started) / calls * 1e6)
    return out


async def _timed_requests(client: Client, body: Callable[[], bytes], calls: int) -> float:
    """One pass of `calls` requests, after a tenth as many untimed."""
    for _ in range(calls // 10):
        await client.ok(RC_PATH, body())
    bodies = [body() for _ in range(calls)]
    started = time.process_time()
    for raw in bodies:
        await client.ok(RC_PATH, raw)
    return (time.process_time() - started) / calls * 1e6


if __name__ == "__main__":
    main()
