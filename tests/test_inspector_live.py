"""The inspector's live updates over a real HTTP server: server-sent events, pushed when
something changed, coalesced, resumed from Last-Event-ID, and ended when the client leaves or
the server stops."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server import Settings, create_app
from mock_server.http.ui.live import PUSH_INTERVAL, LiveUpdates
from mock_server.serving import ThreadedServer
from tests.conftest import START
from tests.specs import SPECS

EVENTS = "/_sandbox/ui/events"


def events(response: httpx.Response) -> Iterator[dict[str, str]]:
    """The stream's events, each as its fields (comments skipped)."""
    block: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if block:
                yield block
            block = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            block[key] = value.removeprefix(" ")
    if block:
        yield block


def changes(response: httpx.Response) -> Iterator[dict[str, str]]:
    return (e for e in events(response) if e.get("event") == "change")


@pytest.fixture
def app() -> Any:
    return create_app(Settings(store="memory", clock_start=START, clock_rate=0), SPECS)


@pytest.fixture
def server(app: Any) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as running:
        yield running


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def newest_seq(http: httpx.Client) -> int:
    return int(http.get("/_sandbox/journal", params={"limit": 1}).json()["requests"][-1]["seq"])


def test_pushes_come_at_once_then_coalesced(http: httpx.Client) -> None:
    with http.stream("GET", EVENTS) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = changes(response)
        first = next(stream)  # a new page is told at once
        assert json.loads(first["data"])["now"] == "2026-01-01T00:00:00Z"
        for _ in range(30):
            http.post("/_sandbox/clock", json={"advance": "1s"})
        final = newest_seq(http)
        pushes = [first]
        while int(pushes[-1]["id"]) < final:
            pushes.append(next(stream))
    data = [json.loads(p["data"]) for p in pushes]
    assert data[-1]["seq"] == final and data[-1]["now"] == "2026-01-01T00:00:30Z"
    assert len(pushes) < 30  # thirty changes, far fewer pushes
    # One push a tick at most, ticks PUSH_INTERVAL apart: two pushes a second at most.
    ticks = [d["tick"] for d in data]
    assert all(b > a for a, b in itertools.pairwise(ticks)), ticks
    assert PUSH_INTERVAL == 0.5


def test_a_reconnect_resumes_from_its_last_event_id(http: httpx.Client) -> None:
    http.post("/_sandbox/clock", json={"advance": "1s"})
    seen = newest_seq(http)
    # A page that missed requests is told at once, with the newest sequence.
    with http.stream("GET", EVENTS, headers={"Last-Event-ID": str(seen - 1)}) as response:
        assert int(next(changes(response))["id"]) == seen
    # A page that saw the newest one hears only of the next change.
    with http.stream("GET", EVENTS, headers={"Last-Event-ID": str(seen)}) as response:
        stream = changes(response)
        http.post("/_sandbox/clock", json={"advance": "1s"})
        assert int(next(stream)["id"]) == seen + 1


def test_a_stream_ends_when_its_client_leaves(app: Any, http: httpx.Client) -> None:
    with http.stream("GET", EVENTS) as response:
        stream = changes(response)  # kept: dropping the iterator would close the response
        next(stream)
        assert app.state.live.streams == 1
    assert app.state.live.wait_streams(0, timeout=10)


def test_the_server_stops_with_streams_open(app: Any) -> None:
    server = ThreadedServer(app).start()
    told: list[dict[str, str]] = []
    connected = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=server.url, timeout=30) as client,
            client.stream("GET", EVENTS) as response,
        ):
            for event in events(response):
                told.append(event)
                connected.set()

    readers = [threading.Thread(target=listen) for _ in range(3)]
    for reader in readers:
        reader.start()
    assert connected.wait(10) and app.state.live.wait_streams(3, timeout=10)
    server.stop()
    assert not server.running
    for reader in readers:
        reader.join(10)
        assert not reader.is_alive()
    # Each stream said goodbye itself: uvicorn did not have to cancel it.
    assert [e["event"] for e in told if e.get("event") == "closing"] == ["closing"] * 3


def test_every_stream_pushes_one_version_per_tick() -> None:
    """Requests keep coming while the streams wake one after another on a tick: all of them
    still announce the same version, so their pages' reloads share one rendering."""
    counter = iter(range(1, 1000))
    live = LiveUpdates(lambda: (0,), lambda: next(counter), lambda: {"now": START})
    first, second = live.message(7), live.message(7)
    assert first == second and b'"seq":1' in first
    assert b'"seq":2' in live.message(8)  # the next tick names the newest version
