"""A webhook receiver for the lifecycle suite: an HTTP server on 127.0.0.1, port 0, that records
every JSON body POSTed to it and answers 204. Only a target on this machine can reach it."""

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
        self._lock = threading.Lock()

    def add(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)


@contextmanager
def receiving() -> Iterator[Received]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                received.add(json.loads(body))
            except ValueError:
                received.add(body.decode("utf-8", "replace"))  # kept, to be reported
            # Recorded before answering: once the sender has its answer, the event is here.
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # no access log in the kit's output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/etelecom-kit-hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
