"""The serving process's garbage collector: paused while it loads, then tuned once it serves
(mock_server/collector.py), checked in a real server process and in a worker of
`serve --workers`; and an in-process `serve` leaves the caller's collector as it found it."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from mock_server import collector, serving
from mock_server.app import WORKER_SETTINGS
from mock_server.settings import Settings
from tests.processes import invoke, read_line, serving_in_process

# A real server on port 0, served by serving.serve, answering what its collector looks like.
SERVER = """
import gc, json
from mock_server import serving

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    state = {"enabled": gc.isenabled(), "threshold": gc.get_threshold(),
             "frozen": gc.get_freeze_count()}
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps(state).encode()})

sock = serving.bind("127.0.0.1", 0)
url = serving.url_of(sock)
serving.serve(sock, serving.config(app, lifespan="off"), lambda: print(url, flush=True))
"""


def test_a_serving_process_freezes_what_it_loaded_and_collects_less_often() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            url = read_line(process.stdout).strip()
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url, timeout=30) as response:
                state = json.loads(response.read())
        finally:
            process.terminate()
    assert state["enabled"] is True
    assert state["threshold"] == [collector.YOUNG, collector.OLDER, collector.OLDER]
    assert state["frozen"] > 10_000  # the interpreter, uvicorn and the app: frozen at readiness


def test_nothing_is_collected_while_loading_and_the_collector_is_as_before_afterwards() -> None:
    assert gc.isenabled()
    with collector.loading():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.loading():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_serve_loads_with_the_collector_off_and_leaves_it_on() -> None:
    """`serve` run in this process: its load runs with no collections (seen from the server,
    replaced here by a stand-in that only looks), and the caller's collector is as it was."""
    seen: list[bool] = []

    def look(sock: socket.socket, cfg: object, on_ready: Callable[[], None]) -> None:
        seen.append(gc.isenabled())
        sock.close()

    threshold = gc.get_threshold()
    with mock.patch.object(serving, "serve", look):
        ran = invoke(["serve", "--port", "0", "--store", "memory"])
    assert ran.returncode == 0, ran
    assert seen == [False]
    assert gc.isenabled() and gc.get_threshold() == threshold
    with serving_in_process(["--store", "memory"]):  # and with its server running in a thread
        assert gc.isenabled()


def test_each_worker_of_serve_workers_tunes_its_own_collector(tmp_path: Path) -> None:
    """uvicorn makes each worker's app with `worker_app`, in a new interpreter."""
    settings = Settings(store=f"sqlite:{tmp_path / 'shared.sqlite3'}")
    code = (
        "import gc; from mock_server.app import worker_app; worker_app(); "
        "print(gc.isenabled(), *gc.get_threshold(), gc.get_freeze_count())"
    )
    env = {**os.environ, WORKER_SETTINGS: settings.to_json()}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    enabled, young, middle, old, frozen = done.stdout.split()
    assert enabled == "True"
    assert (int(young), int(middle), int(old)) == (
        collector.YOUNG,
        collector.OLDER,
        collector.OLDER,
    )
    assert int(frozen) > 10_000
