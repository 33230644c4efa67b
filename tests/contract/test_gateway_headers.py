"""The kit's gateway never sends the sandbox's own headers (X-Sandbox-Fault, X-Sandbox-Delay)
to a live target; to a local one they go through, and a sandbox honours them."""

from __future__ import annotations

from collections.abc import Iterator

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


def send_through(url: str, live: bool) -> tuple[int, dict[str, str]]:
    relay = Relay(url)
    gateway = Gateway(relay, Guard(facts(), live=live), in_process=False)
    headers = {"Authorization": f"Bearer {DEMO.demo_api_key}", **ASKS}
    try:
        with gateway.client() as client:
            response = client.post(LIST, json={}, headers=headers)
    finally:
        relay.close()
    return response.status_code, dict(response.headers)


def sandbox_headers(received: Received) -> set[str]:
    return {name for name in received.headers if name.lower().startswith("x-sandbox-")}


def test_a_live_target_never_gets_the_sandbox_headers(recorder: tuple[Recorder, str]) -> None:
    server, url = recorder
    status, headers = send_through(url, live=True)
    (received,) = server.received
    assert received.path == LIST
    assert sandbox_headers(received) == set()
    assert received.headers["authorization"] == f"Bearer {DEMO.demo_api_key}"
    assert status == 200 and "x-sandbox-fault-rule" not in headers


def test_a_local_target_gets_them_and_a_sandbox_honours_them(
    recorder: tuple[Recorder, str],
) -> None:
    server, url = recorder
    status, _ = send_through(url, live=False)
    (received,) = server.received
    assert sandbox_headers(received) == {"x-sandbox-fault", "x-sandbox-delay", "x-sandbox-other"}
    assert status == 503  # the one-off fault asked for
