"""etelecom-sandbox: serve the sandbox, make datasets, run the contract kit and drift."""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from mock_server import collector
from mock_server.extras import need_extra
from mock_server.hosts import is_loopback
from mock_server.settings import Settings, settings_from_env


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit: never a traceback."""
    click.echo(f"etelecom-sandbox: error: {message}", err=True)
    raise SystemExit(2)


@contextmanager
def progress(label: str, length: int) -> Iterator[Any]:
    """A progress bar on a terminal; nothing at all when stderr is not one (CI logs)."""
    with click.progressbar(
        length=length, label=label, file=sys.stderr, hidden=not sys.stderr.isatty()
    ) as bar:
        yield bar


class LazyGroup(click.Group):
    """Subcommands that live in other packages, imported only when they run or are listed:
    `serve` starts without loading the contract kit's CLI."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(
    cls=LazyGroup,
    lazy={"contract": "contract_tests.cli:contract", "drift": "contract_tests.cli:drift"},
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="etelecom-consent-sandbox", prog_name="etelecom-sandbox")
def main() -> None:
    """A stateful sandbox of eTelecom's Zalo Cloud consent API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="0 picks a free port.")
@click.option(
    "--store",
    default=None,
    help="memory, sqlite, sqlite:PATH, or postgresql://USER:PASSWORD@HOST:PORT/DB  "
    "[default: sqlite]",
)
@click.option("--seed", default=None, type=int, help="Seed for every random choice.  [default: 0]")
@click.option("--clock-start", default=None, help="RFC 3339 instant the virtual clock starts at.")
@click.option("--clock-rate", default=None, type=float, help="1 real time, 0 frozen.")
@click.option("--scenarios", default=None, help="A scenario rules file (YAML or JSON).")
@click.option(
    "--control-token",
    default=None,
    help="Needed by every /_sandbox/ call; required when --host is not a loopback address.",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
@click.option("--data", default=None, help="Load a dataset (`fixtures generate`) at start.")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes sharing the store (SQLite or PostgreSQL).  [default: 1]",
)
@collector.loading()  # until it serves: serving.serve tunes the collector then
def serve(host: str, port: int, access_log: bool, data: str | None, **overrides: Any) -> None:
    """Run the sandbox until interrupted."""
    from mock_server import serving
    from mock_server.app import WORKER_SETTINGS, build_services, create_app
    from mock_server.datasets.load import load, read_dataset
    from mock_server.spec import load_specs

    try:
        settings: Settings = settings_from_env().with_overrides(**overrides)
        if settings.workers > 1 and not settings.shared_store:
            fail(
                f"--workers {settings.workers} needs a store the workers share: use sqlite "
                f"(the default) or postgresql://..., not {settings.store_kind}"
            )
        if not is_loopback(host) and not settings.control_token:
            fail(
                f"--host {host} is not a loopback address: give --control-token "
                "(or ETELECOM_SANDBOX_CONTROL_TOKEN) so the control API is not open to the network"
            )
        if not is_loopback(host):  # the bound host is one /_sandbox/ answers to
            hosts = ",".join(filter(None, (settings.allowed_hosts, host)))
            settings = settings.with_overrides(allowed_hosts=hosts)
        started = time.perf_counter()
        specs = load_specs()
        dataset = None
        if data:
            with progress(f"reading {data}", _size(data)) as bar:
                dataset = read_dataset(data, specs.wire, bar.update)
        if dataset is not None and settings.clock_start is None:
            # The dataset's consents are as they stand at its `now`: the clock starts there.
            settings = settings.with_overrides(clock_start=dataset.header.now)
        services = build_services(settings, specs)
        if dataset is not None:
            counts = load(services, dataset).describe()
            click.echo(
                f"dataset {data}: {counts} in {time.perf_counter() - started:.2f} s", err=True
            )
        shop = services.shops.demo_shop()
        if settings.workers > 1:
            services.close()  # each worker opens the store itself
        else:
            app = create_app(settings, specs, services)
    except (ValueError, OSError) as exc:
        fail(f"cannot start: {exc}")
    try:
        sock = serving.bind(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    url = serving.url_of(sock)
    click.echo(
        f"demo shop {shop.shop_id}: api_key {shop.api_key}  shop_key {shop.shop_key}  "
        f"oa_id {', '.join(map(str, shop.oa_ids))}",
        err=True,
    )
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    ready = (
        f"etelecom-sandbox ready on {url} (store {settings.store_label}{workers}; "
        f"shop API {url}/v1/shop, partner API {url}/v1/partner)"
    )

    def announce() -> None:
        click.echo(ready)
        sys.stdout.flush()

    if settings.workers > 1:
        os.environ[WORKER_SETTINGS] = settings.to_json()
        if not serving.serve_workers(
            sock, "mock_server.app:worker_app", settings.workers, announce
        ):
            fail(f"the {settings.workers} workers did not all start in time")
    else:
        serving.serve(sock, serving.config(app, access_log), announce)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


@main.group()
def fixtures() -> None:
    """Make data for the sandbox."""


@fixtures.command()
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--shops", default=3, show_default=True, type=click.IntRange(1))
@click.option("--consents", default=200, show_default=True, type=click.IntRange(0))
@click.option("--now", default="2026-01-01T00:00:00Z", show_default=True, help="The dataset's now.")
@click.option(
    "--days",
    default=60,
    show_default=True,
    type=click.IntRange(1),
    help="Consents are spread over this many days before --now.",
)
@click.option("--out", required=True, help="The JSON Lines file to write; - for stdout.")
def generate(out: str, **params: Any) -> None:
    """Write a realistic dataset: shops, Vietnamese customers, consents in every state."""
    need_extra("datasets", "fixtures generate")
    from mock_server.datasets.generate import DatasetParams, write_dataset
    from mock_server.spec import load_specs

    try:
        dataset = DatasetParams(**params)
        wire = load_specs().wire
        with (
            click.open_file(out, "wb", atomic=out != "-") as handle,
            progress(f"writing {out}", dataset.consents) as bar,
        ):
            write_dataset(dataset, wire, handle, bar.update)
    except ValueError as exc:
        fail(f"cannot generate: {exc}")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")


@main.command()
@click.option("--base-url", required=True, help="The sandbox's root, e.g. http://127.0.0.1:8080.")
@click.option("--shop-id", default=None, help="One shop (default: every shop together).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown suits a CI job summary.",
)
@click.option(
    "--control-token",
    default=None,
    envvar="ETELECOM_SANDBOX_CONTROL_TOKEN",
    help="The sandbox's control token, when it has one.",
)
@click.option(
    "--fail-under", type=float, default=None, help="Exit 1 when less than N %% was reached."
)
def coverage(
    base_url: str,
    shop_id: str | None,
    fmt: str,
    control_token: str | None,
    fail_under: float | None,
) -> None:
    """What a running sandbox's traffic went through: every coverage item, and misuse."""
    import json

    import httpx

    from mock_server import coverage_report

    headers = {"Authorization": f"Bearer {control_token}"} if control_token else {}
    params = {"shop_id": shop_id} if shop_id else {}
    try:
        response = httpx.get(
            base_url.rstrip("/") + "/_sandbox/coverage", params=params, headers=headers, timeout=60
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach {base_url}: {exc}")
    if response.status_code != 200:
        fail(f"{base_url} answered {response.status_code}: {response.text.strip()}")
    report = response.json()
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(coverage_report.table(report, markdown=fmt == "markdown"), nl=False)
    if fail_under is not None and report["percent"] < fail_under:
        raise SystemExit(1)


def run() -> None:
    """The console script: every failure is one line on stderr and a non-zero exit."""
    try:
        code = main(standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        raise SystemExit(2) from None
    except click.ClickException as exc:
        fail(" ".join(exc.format_message().split()))
    except click.Abort:
        fail("aborted")
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
