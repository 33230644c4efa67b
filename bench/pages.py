"""Open inspector pages, as a browser keeps them: each holds the live event stream open and, on
every push, reloads its view's live region, as inspector.js does. Prints a readiness line once
every page has its stream, and what the pages received (on stderr) when stopped (SIGINT).

    python bench/pages.py --url URL --pages 10 --view /_sandbox/ui/shops/ID/consents
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

import httpx

EVENTS = "/_sandbox/ui/events"


async def page(
    client: httpx.AsyncClient, view: str, opened: asyncio.Queue[int], counts: dict[str, int]
) -> None:
    async with client.stream("GET", EVENTS) as response:
        await opened.put(response.status_code)
        data = None
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                data = json.loads(line[5:])
            elif not line and data and "seq" in data:
                counts["pushes"] += 1
                reload = await client.get(view, params={"fragment": 1, "v": data["seq"]})
                counts["reloads" if reload.status_code == 200 else "failed"] += 1
                data = None


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--view", required=True)
    args = parser.parse_args()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    counts = {"pushes": 0, "reloads": 0, "failed": 0}
    opened: asyncio.Queue[int] = asyncio.Queue()
    limits = httpx.Limits(max_connections=args.pages * 2)
    async with httpx.AsyncClient(base_url=args.url, timeout=None, limits=limits) as client:
        tasks = [
            asyncio.create_task(page(client, args.view, opened, counts)) for _ in range(args.pages)
        ]
        statuses = [await opened.get() for _ in range(args.pages)]
        if any(status != 200 for status in statuses):
            print(f"pages: event streams answered {statuses}", file=sys.stderr)
            return 1
        print(f"{args.pages} pages ready on {args.url}", flush=True)
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(f"pages: {json.dumps(counts)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
