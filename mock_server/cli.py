"""etelecom-sandbox: serve the sandbox (and, as they land, contract / drift / fixtures)."""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from typing import Any, NoReturn

import click
import uvicorn

from contract_tests.cli import contract, drift
from mock_server.datasets import DatasetParams, write_dataset
from mock_server.settings import Settings, settings_from_env


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn that prints one readiness line once it accepts requests."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self.ready_line = ready_line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            click.echo(self.ready_line)
            sys.stdout.flush()


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit: never a traceback."""
    click.echo(f"etelecom-sandbox: error: {message}", err=True)
    raise SystemExit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """A stateful sandbox of eTelecom's Zalo Cloud consent API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="0 picks a free port.")
@click.option("--store", default=None, help="memory, sqlite, or sqlite:PATH  [default: sqlite]")
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
def serve(host: str, port: int, access_log: bool, data: str | None, **overrides: Any) -> None:
    """Run the sandbox until interrupted."""
    from mock_server.app import create_app
    from mock_server.datasets_load import load, read_dataset
    from mock_server.sandbox import Sandbox

    try:
        settings: Settings = settings_from_env().with_overrides(**overrides)
        if not is_loopback(host) and not settings.control_token:
            fail(
                f"--host {host} is not a loopback address: give --control-token "
                "(or ETELECOM_SANDBOX_CONTROL_TOKEN) so the control API is not open to the network"
            )
        started = time.perf_counter()
        dataset = read_dataset(data) if data else None
        if dataset is not None and settings.clock_start is None:
            # The dataset's consents are as they stand at its `now`: the clock starts there.
            settings = settings.with_overrides(clock_start=dataset.header.now)
        sandbox = Sandbox(settings)
        if dataset is not None:
            counts = load(sandbox, dataset).describe()
            click.echo(
                f"dataset {data}: {counts} in {time.perf_counter() - started:.2f} s", err=True
            )
    except (ValueError, OSError) as exc:
        fail(f"cannot start: {exc}")
    sock = _bind(host, port)
    real_host, real_port = sock.getsockname()[:2]
    url = f"http://{_url_host(real_host)}:{real_port}"
    shop = sandbox.demo_shop
    click.echo(
        f"demo shop {shop.shop_id}: api_key {shop.api_key}  shop_key {shop.shop_key}  "
        f"oa_id {', '.join(map(str, shop.oa_ids))}",
        err=True,
    )
    config = uvicorn.Config(
        create_app(sandbox=sandbox),
        log_level="warning",
        access_log=access_log,
        lifespan="on",
    )
    ready = (
        f"etelecom-sandbox ready on {url} (store {settings.store_kind}; "
        f"shop API {url}/v1/shop, partner API {url}/v1/partner)"
    )
    _Server(config, ready).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@main.group()
def fixtures() -> None:
    """Make data for the sandbox."""


@fixtures.command()
@click.option("--seed", default=DatasetParams.seed, show_default=True, type=int)
@click.option("--shops", default=DatasetParams.shops, show_default=True, type=click.IntRange(1))
@click.option(
    "--consents", default=DatasetParams.consents, show_default=True, type=click.IntRange(0)
)
@click.option("--now", default=DatasetParams.now, show_default=True, help="The dataset's now.")
@click.option(
    "--days",
    default=DatasetParams.days,
    show_default=True,
    type=click.IntRange(1),
    help="Consents are spread over this many days before --now.",
)
@click.option("--out", required=True, help="The JSON Lines file to write; - for stdout.")
def generate(out: str, **params: Any) -> None:
    """Write a realistic dataset: shops, Vietnamese customers, consents in every state."""
    try:
        dataset = DatasetParams(**params)
        with click.open_file(out, "wb", atomic=out != "-") as handle:
            write_dataset(dataset, handle)
    except ValueError as exc:
        fail(f"cannot generate: {exc}")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")


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


main.add_command(contract)
main.add_command(drift)

if __name__ == "__main__":
    run()
