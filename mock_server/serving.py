"""The one way to serve an app: uvicorn on a socket bound before it starts, with a readiness
callback. `serve` runs in the foreground (the CLI); `ThreadedServer` in a thread (the pytest
plugin, tests, benchmarks)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from mock_server import collector
from mock_server.http.ui.live import close_streams

START_TIMEOUT = 30.0
TICK = 0.1  # uvicorn's main loop: seconds between ticks
QUICK_STOP = 0.01  # how often a server in a thread looks for a stop
# Open responses (an inspector's live stream) end themselves at shutdown; this is the backstop.
GRACEFUL_SHUTDOWN = 10
Lifespan = Literal["auto", "on", "off"]


class _Server(uvicorn.Server):
    """uvicorn that calls `on_ready` once it accepts requests."""

    def __init__(
        self, config: uvicorn.Config, on_ready: Callable[[], None], stop_check: float = TICK
    ) -> None:
        super().__init__(config)
        self.on_ready = on_ready
        self.stop_check = stop_check  # seconds between looks at should_exit

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_ready()

    async def main_loop(self) -> None:
        """uvicorn's loop (a tick each 0.1 s: the date header, limits, supervisor pings), with
        a look at should_exit every `stop_check` s: a server in a thread (ThreadedServer) is
        stopped within 10 ms, not at the next tick, where tests start and stop many."""
        counter = 0
        should_exit = await self.on_tick(counter)
        looks = max(1, round(TICK / self.stop_check))
        while not should_exit:
            counter = (counter + 1) % 864000
            for _ in range(looks):
                await asyncio.sleep(TICK / looks)
                if self.should_exit:
                    break
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        close_streams(self.config.app)  # live streams end, so their connections can close
        await super().shutdown(sockets)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (0 picks a free port); OSError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def config(app: ASGIApp, access_log: bool = False, lifespan: Lifespan = "on") -> uvicorn.Config:
    """uvicorn's settings: quiet, and the app's lifespan ("on"; "auto" for bare ASGI apps)."""
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=access_log,
        lifespan=lifespan,
        ws="none",  # live pages use server-sent events; loading a WebSocket stack costs 20 ms
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


def serve(sock: socket.socket, cfg: uvicorn.Config, on_ready: Callable[[], None]) -> None:
    """Serve on `sock` until interrupted, this process's collector tuned for serving."""

    def ready() -> None:
        collector.serving()
        on_ready()

    _Server(cfg, ready).run(sockets=[sock])


class _Workers(Multiprocess):
    """uvicorn's worker supervisor, calling `on_ready` once every worker accepts requests."""

    def __init__(self, cfg: uvicorn.Config, sock: socket.socket, on_ready: Callable[[], None]):
        super().__init__(cfg, sockets=[sock])
        self.on_ready = on_ready
        self.ready = False

    def init_processes(self) -> None:
        super().init_processes()
        timeout = self.config.timeout_worker_healthcheck
        if all(p.wait_until_ready(timeout, self.should_exit) for p in self.processes):
            self.ready = True
            collector.serving()  # the supervisor's own: the CLI held it off while it loaded
            self.on_ready()
        else:
            self.should_exit.set()


def serve_workers(
    sock: socket.socket, factory: str, workers: int, on_ready: Callable[[], None]
) -> bool:
    """Serve `factory` ("module:function" making the app) from `workers` processes sharing
    `sock`, until interrupted; False when they did not all start in time. Each process builds
    its own app: they share only the store."""
    cfg = uvicorn.Config(
        factory,
        factory=True,
        workers=workers,
        log_level="warning",
        lifespan="on",
        ws="none",
        timeout_worker_healthcheck=int(START_TIMEOUT),  # a busy machine starts them slowly
    )
    supervisor = _Workers(cfg, sock, on_ready)
    supervisor.run()
    return supervisor.ready


class ThreadedServer:
    """A real HTTP server in this process, from a background thread: `url` once started,
    until `stop()` (or the end of a `with` block)."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", lifespan: Lifespan = "on") -> None:
        self.app = app
        self._socket = bind(host, 0)
        self.url = url_of(self._socket)
        self._ready = threading.Event()
        self._server = _Server(config(app, lifespan=lifespan), self._ready.set, QUICK_STOP)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> ThreadedServer:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError("the server did not start in time")
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(START_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
