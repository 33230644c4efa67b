"""A webhook target for the soak: an HTTP server on 127.0.0.1, port 0, that counts the events
POSTed to it and answers 204. It keeps no bodies (a soak sends a hundred thousand events), only
how many were JSON and how many were not."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/bench-hook"


class Counted:
    def __init__(self) -> None:
        self.url = ""
        self.events = 0  # JSON bodies received
        self.bad = 0  # bodies that were not JSON
        self._lock = threading.Lock()

    def count(self, body: bytes) -> None:
        try:
            json.loads(body)
            good = True
        except ValueError:
            good = False
        with self._lock:
            if good:
                self.events += 1
            else:
                self.bad += 1


@contextmanager
def counting() -> Iterator[Counted]:
    """A running receiver until the block ends; `url` is where to send events."""
    counted = Counted()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            counted.count(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # no access log on the report's stdout
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    counted.url = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield counted
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
