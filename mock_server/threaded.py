"""Serve a sandbox from a background thread on 127.0.0.1:0 (the pytest plugin's server)."""

from __future__ import annotations

import socket
import threading

import uvicorn

from mock_server.app import create_app
from mock_server.sandbox import Sandbox

START_TIMEOUT = 30.0


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def install_signal_handlers(self) -> None:
        pass  # not the main thread: leave signals to the test runner (older uvicorn)


class ThreadedSandbox:
    """A real HTTP sandbox in this process: `url` once started, until `stop()`."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1") -> None:
        self.sandbox = sandbox
        self._socket = socket.socket()
        self._socket.bind((host, 0))
        self._socket.listen(512)
        port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(create_app(sandbox=sandbox), log_level="warning", lifespan="on")
        self._ready = threading.Event()
        self._server = _Server(config, self._ready)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> ThreadedSandbox:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the sandbox did not start in time")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT)
        self._socket.close()
