"""The sandbox, preloaded with N synthetic consents, served exactly like `etelecom-sandbox serve`.

The memory store starts empty in a new process, so the CLI cannot serve a preloaded one: this
builds the services, bulk-loads bench/dataset.py's consents with `store.insert_many`, and serves
`create_app(settings, specs, services)` the CLI's way (serving.py), printing the CLI's readiness
line once requests are accepted.

    python bench/serve_loaded.py --consents 1000000 [--store memory] [--port 0]
"""

from __future__ import annotations

import argparse
import sys
import time

import dataset
from mock_server import collector
from mock_server.app import build_services, create_app
from mock_server.settings import settings_from_env
from mock_server.spec import load_specs
from serving import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--store", default="memory", help="memory, sqlite or sqlite:PATH")
    parser.add_argument("--consents", type=int, default=0, help="how many to preload")
    args = parser.parse_args()

    settings = settings_from_env().with_overrides(store=args.store)
    with collector.loading():  # as the CLI loads; serve() tunes the collector at readiness
        specs = load_specs()  # one copy for the services and the app, as the CLI does
        services = build_services(settings, specs)
        started = time.perf_counter()
        shop = services.shops.demo_shop()
        loaded = services.store.insert_many(dataset.consents(shop, args.consents))
    print(
        f"serve_loaded: {loaded} consents loaded in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )

    def ready(url: str) -> str:
        return (
            f"etelecom-sandbox ready on {url} (store {settings.store_kind}; "
            f"shop API {url}/v1/shop, partner API {url}/v1/partner)"
        )

    # The app's lifespan closes the services when the server stops.
    serve(create_app(settings, specs, services), args.host, args.port, ready)


if __name__ == "__main__":
    main()
