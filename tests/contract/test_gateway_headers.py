"""The kit's gateway never sends the sandbox's own headers (X-Sandbox-Fault, X-Sandbox-Delay)
to a live target; to a local one they go through, and a sandbox honours them. Both roads to a
Relay: the kit's own httpx client, and the Gateway as the ASGI app schemathesis calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from contract_tests.gateway import Gateway, Relay
from contract_tests.guard import Guard
from contract_tests.specfacts import facts
from mock_server import Settings
from tests.contract.servers import Received, Recorder, sandbox_app, serving

DEMO = Settings()
LIST = facts().operation("ListRequestConsent").path
ASKS = {"X-Sandbox-Fault": "unavailable", "X-Sandbox-Delay": "1ms", "X-Sandbox-Other": "1"}


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder(sandbox_app())
    with serving(recorder) as url:
        yield recorder, url


ROADS = ("client", "asgi")


def through(url: str, live: bool, road: str, method: str, path: str, **kw: Any) -> httpx.Response:
    """One request through a Gateway to a Relay to `url`, by the kit's client or over ASGI."""
    relay = Relay(url)
    gateway = Gateway(relay, Guard(facts(), live=live), in_process=False)

    async def over_asgi() -> httpx.Response:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
            return await client.request(method, path, **kw)

    try:
        if road == "asgi":
            response = anyio.run(over_asgi)
        else:
            with gateway.client() as client:
                response = client.request(method, path, **kw)
    finally:
        relay.close()
    assert gateway.guard.sent == 1
    return response


def send_through(url: str, live: bool, road: str) -> tuple[int, dict[str, str]]:
    headers = {"Authorization": f"Bearer {DEMO.demo_api_key}", **ASKS}
    response = through(url, live, road, "POST", LIST, json={}, headers=headers)
    return response.status_code, dict(response.headers)


def sandbox_headers(received: Received) -> set[str]:
    return {name for name in received.headers if name.lower().startswith("x-sandbox-")}


@pytest.mark.parametrize("road", ROADS)
def test_a_live_target_never_gets_the_sandbox_headers(
    recorder: tuple[Recorder, str], road: str
) -> None:
    server, url = recorder
    status, headers = send_through(url, live=True, road=road)
    (received,) = server.received
    assert received.path == LIST
    assert sandbox_headers(received) == set()
    assert received.headers["authorization"] == f"Bearer {DEMO.demo_api_key}"
    assert status == 200 and "x-sandbox-fault-rule" not in headers


@pytest.mark.parametrize("road", ROADS)
def test_a_local_target_gets_them_and_a_sandbox_honours_them(
    recorder: tuple[Recorder, str], road: str
) -> None:
    server, url = recorder
    status, _ = send_through(url, live=False, road=road)
    (received,) = server.received
    assert sandbox_headers(received) == {"x-sandbox-fault", "x-sandbox-delay", "x-sandbox-other"}
    assert status == 503  # the one-off fault asked for


@pytest.mark.parametrize("road", ROADS)
def test_the_query_string_reaches_the_target(recorder: tuple[Recorder, str], road: str) -> None:
    """A path with a query goes on as it was given: the journal refuses `limit=0` by name."""
    _, url = recorder
    response = through(url, False, road, "GET", "/_sandbox/journal", params={"limit": "0"})
    assert response.status_code == 400
    assert "limit" in response.json()["msg"]
