"""The serving process's garbage collector: paused while it loads, then tuned once it serves
(mock_server/collector.py), checked in a real server process; and an in-process `serve` leaves
the caller's collector as it found it."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import urllib.request

from mock_server import collector
from tests.processes import read_line, serving_in_process

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


def test_serve_run_in_this_process_leaves_its_collector_on() -> None:
    threshold = gc.get_threshold()
    with serving_in_process(["--store", "memory"]):
        assert gc.isenabled()  # its load ran with the collector off; that ended with it
    assert gc.isenabled() and gc.get_threshold() == threshold
