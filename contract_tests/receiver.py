"""A webhook receiver: an HTTP server on 127.0.0.1, port 0, that records every JSON body POSTed
to it. It can fail on demand (a status, or 503 for the next N requests) and signals each arrival,
so a test waits on an event, never on time. Only a target on this machine can reach it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Received:
    def __init__(self) -> None:
        self.url = ""
        self.events: list[Any] = []
        self.status = 204  # what it answers; set a 5xx to make deliveries fail
        self.fail_next = 0  # answer 503 to this many requests first
        self.arrived = threading.Event()  # set on every accepted event
        self._lock = threading.Lock()

    def answer(self, body: bytes) -> int:
        """Record `body` unless this request is to fail; the status to answer."""
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                return 503
            if self.status >= 300:
                return self.status
            try:
                self.events.append(json.loads(body))
            except ValueError:
                self.events.append(body.decode("utf-8", "replace"))  # kept, to be reported
        self.arrived.set()
        return self.status


@contextmanager
def receiving(path: str = "/etelecom-kit-hook") -> Iterator[Received]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            # Recorded before answering: once the sender has its answer, the event is here.
            self.send_response(received.answer(body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # no access log in the kit's output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    # serve_forever looks for a shutdown every poll_interval (0.5 s by default): every receiver
    # would add half a second to its test's end.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
