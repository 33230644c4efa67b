"""etelecom-sandbox: serve the sandbox (and, as they land, contract / drift / fixtures)."""

from __future__ import annotations

import socket
import sys
from typing import Any, NoReturn

import click
import uvicorn

from mock_server.settings import Settings, settings_from_env

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
def serve(host: str, port: int, access_log: bool, **overrides: Any) -> None:
    """Run the sandbox until interrupted."""
    from mock_server.app import create_app
    from mock_server.sandbox import Sandbox

    try:
        settings: Settings = settings_from_env().with_overrides(**overrides)
        sandbox = Sandbox(settings)
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


if __name__ == "__main__":
    main()
