"""Fault injection against an integrator's retrying client, over real HTTP: what the client sees
(statuses, Retry-After, the exceptions httpx raises), what the sandbox did (the write that went
through), and that the sandbox is healthy afterwards (nothing held, the next request fine)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, START
from tests.specs import SPECS

pytestmark = pytest.mark.slow

CONSENT = {"oa_id": DEMO_OA, "call_type": "audio", "reason_code": "update_order"}
RETRIED = (429, 503)


@dataclass
class RetryingClient:
    """What an integrator writes: retries 429 and 503 up to `attempts` times, waiting
    Retry-After when the answer has one (else a doubling backoff). The wait is a function the
    client is given, so a test records it instead of sleeping."""

    base_url: str
    api_key: str
    timeout: float = 5.0
    attempts: int = 4
    statuses: list[int] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)

    def call(self, method: str, body: dict[str, Any], **headers: str) -> httpx.Response:
        for attempt in range(self.attempts):
            response = self.http.post(f"/v1/shop.Zalo/{method}", json=body, headers=headers)
            self.statuses.append(response.status_code)
            if response.status_code not in RETRIED or attempt == self.attempts - 1:
                return response
            after = response.headers.get("Retry-After")
            self.waits.append(float(after) if after else 0.1 * 2**attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.http.close()


@dataclass
class Sandbox:
    url: str

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", timeout=30, **kwargs)
        assert response.is_success, response.text
        return response.json()

    def faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        tables = self.control("PUT", "faults", json={"faults": list(rules)})
        found: list[dict[str, Any]] = tables["global"]
        return found

    def settled(self) -> dict[str, Any]:
        """The fault tables once no request is held any more (at most 10 s)."""
        tables: dict[str, Any] = self.control("GET", "faults", params={"wait": "10s"})
        return tables

    def consents(self) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.url}/v1/shop.Zalo/ListRequestConsent",
            json={},
            headers={"Authorization": f"Bearer {DEMO.demo_api_key}"},
        )
        found: list[dict[str, Any]] = response.json()["consents"]
        return found


def settings(**changes: Any) -> Settings:
    return Settings(**{"store": "memory", "clock_start": START, "clock_rate": 0, **changes})


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # A hang lasts until its client gives up (each test's client does, within a second): a
    # request still held when `settled()` has waited 10 s would be one the sandbox let leak.
    with ThreadedServer(create_app(settings(fault_hang_seconds=600), SPECS)) as server:
        yield Sandbox(server.url)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[RetryingClient]:
    client = RetryingClient(sandbox.url, DEMO.demo_api_key)
    yield client
    client.close()


def consent(phone: str) -> dict[str, Any]:
    return {**CONSENT, "phone": phone}


def test_times_two_fails_twice_then_succeeds(sandbox: Sandbox, client: RetryingClient) -> None:
    sandbox.faults(
        {
            "id": "busy",
            "match": {"operation": "RequestConsent"},
            "action": {"error": {"code": "unavailable", "retry_after": "1500ms"}},
            "when": {"times": 2},
        }
    )
    answer = client.call("RequestConsent", consent("0912000001"))
    assert answer.status_code == 200
    assert client.statuses == [503, 503, 200]
    assert client.waits == [2.0, 2.0]  # Retry-After in whole seconds, rounded up
    (after,) = sandbox.settled()["global"]
    assert (after["matched"], after["hits"], after["active"], after["remaining"]) == (
        2,
        2,
        False,
        0,
    )
    assert [c["id"] for c in sandbox.consents()] == [answer.json()["id"]]  # made once


def test_429_with_retry_after_then_success(sandbox: Sandbox, client: RetryingClient) -> None:
    sandbox.faults(
        {
            "match": {"operation": "ListRequestConsent"},
            "action": {"error": {"code": "resource_exhausted", "retry_after": "3s"}},
            "when": {"times": 1},
        }
    )
    assert client.call("ListRequestConsent", {}).status_code == 200
    assert (client.statuses, client.waits) == ([429, 200], [3.0])


CALLS = 400  # 120 failures expected, give or take 28 (3 sigma)


def failing_requests(store: str, seed: int) -> list[int]:
    """Which of CALLS CheckConsent calls a `probability: 0.3` rule fails, on a new sandbox."""
    with ThreadedServer(create_app(settings(store=store, seed=seed), SPECS)) as server:
        Sandbox(server.url).faults(
            {
                "id": "flaky",
                "match": {"operation": "CheckConsent"},
                "action": {"error": {"code": "unavailable"}},
                "when": {"probability": 0.3},
            }
        )
        body = {"oa_id": DEMO_OA, "phone": "0912000002"}
        auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
        with httpx.Client(base_url=server.url, headers=auth) as http:
            statuses = [
                http.post("/v1/shop.Zalo/CheckConsent", json=body).status_code for _ in range(CALLS)
            ]
    assert set(statuses) <= {200, 503}
    return [n for n, status in enumerate(statuses) if status == 503]


def test_a_probability_fails_the_same_requests_for_the_same_seed(tmp_path: Any) -> None:
    first = failing_requests("memory", seed=7)
    again = failing_requests(f"sqlite:{tmp_path / 'again.sqlite3'}", seed=7)
    other = failing_requests("memory", seed=8)
    assert first == again  # the same seed and requests: the same failures, on either store
    sigma = math.sqrt(CALLS * 0.3 * 0.7)
    assert abs(len(first) - CALLS * 0.3) <= 3 * sigma, len(first)
    assert first != other


def test_an_after_fault_stores_the_consent_the_client_saw_fail(
    sandbox: Sandbox, client: RetryingClient
) -> None:
    sandbox.faults(
        {
            "id": "lost-answer",
            "match": {"operation": "RequestConsent"},
            "action": {"error": {"code": "unavailable"}},
            "when": {"phase": "after", "times": 1},
        }
    )
    client.attempts = 1  # a client that does not retry writes
    answer = client.call("RequestConsent", consent("0912000003"))
    assert answer.status_code == 503
    assert answer.headers["X-Sandbox-Fault-Rule"] == "lost-answer"
    (stored,) = sandbox.consents()
    assert (stored["phone"], stored["status"], stored["reply_status"]) == ("0912000003", "P", "S")
    # Retrying the write blindly asks again: a duplicate of a request still waiting.
    again = client.call("RequestConsent", consent("0912000003")).json()
    assert (again["status"], again["error_code"]) == ("N", 8)


def test_a_write_that_timed_out_went_through(sandbox: Sandbox) -> None:
    sandbox.faults(
        {
            "id": "slow-write",
            "match": {"operation": "RequestConsent"},
            "action": {"delay": {"fixed": "30s"}},
            "when": {"phase": "after"},
        }
    )
    client = RetryingClient(sandbox.url, DEMO.demo_api_key, timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        client.call("RequestConsent", consent("0912000004"))
    client.close()
    assert sandbox.settled()["held"] == 0  # the client left: the 30 s wait ended with it
    assert [c["phone"] for c in sandbox.consents()] == ["0912000004"]


@pytest.mark.parametrize(
    ("fault", "when", "raised"),
    [
        ("drop", {}, httpx.RemoteProtocolError),
        ("drop", {"phase": "after"}, httpx.RemoteProtocolError),
        ("hang", {}, httpx.ReadTimeout),
        ("truncate", {"phase": "after"}, httpx.RemoteProtocolError),
    ],
)
def test_connection_faults_raise_what_httpx_raises(
    sandbox: Sandbox, fault: str, when: dict[str, str], raised: type[Exception]
) -> None:
    sandbox.faults(
        {
            "id": fault,
            "match": {"operation": "RequestConsent", "phone": "0912000005"},
            "action": {fault: True},
            "when": {**when, "times": 1},
        }
    )
    client = RetryingClient(sandbox.url, DEMO.demo_api_key, timeout=0.3)
    with pytest.raises(raised):
        client.call("RequestConsent", consent("+84912000005"))  # any form of the phone
    assert sandbox.settled()["held"] == 0
    happened = when.get("phase") == "after"
    assert [c["phone"] for c in sandbox.consents()] == (["+84912000005"] if happened else [])
    (entry,) = sandbox.control("GET", "journal", params={"path": "Zalo/RequestConsent"})["requests"]
    assert entry["fault"]["rule"] == fault and entry["fault"]["action"] == fault
    assert entry["status"] == (200 if fault == "truncate" else 0)
    # Healthy afterwards: the next request is answered in full.
    assert client.call("RequestConsent", consent("0912000006")).status_code == 200
    client.close()


def test_a_hang_ends_at_its_bound_when_the_client_waits_on() -> None:
    with ThreadedServer(create_app(settings(fault_hang_seconds=0.5), SPECS)) as server:
        sandbox = Sandbox(server.url)
        sandbox.faults({"match": {"operation": "ListOA"}, "action": {"hang": True}})
        client = RetryingClient(sandbox.url, DEMO.demo_api_key, timeout=30)
        with pytest.raises(httpx.RemoteProtocolError):  # fault_hang_seconds closes it
            client.call("ListOA", {})
        assert sandbox.settled()["held"] == 0
        client.close()


def test_delays_are_at_least_what_they_drew(sandbox: Sandbox, client: RetryingClient) -> None:
    sandbox.faults(
        {
            "id": "uniform",
            "match": {"operation": "ListOA"},
            "action": {"delay": {"uniform": {"min": "40ms", "max": "60ms"}}},
        },
        {
            "id": "lognormal",
            "match": {"operation": "CheckConsent"},
            "action": {"delay": {"lognormal": {"median": "20ms", "p99": "80ms"}}},
        },
    )
    for _ in range(3):
        listed = client.call("ListOA", {})
        checked = client.call("CheckConsent", {"oa_id": DEMO_OA, "phone": "0912000007"})
        assert listed.status_code == checked.status_code == 200
        assert listed.elapsed.total_seconds() >= 0.04
        assert checked.headers["X-Sandbox-Fault-Rule"] == "lognormal"
    drawn = {
        e["path"].rsplit("/", 1)[1]: e["fault"]["delay_ms"]
        for e in sandbox.control("GET", "journal")["requests"]
        if e.get("fault")
    }
    assert 40 <= drawn["ListOA"] <= 60 and drawn["CheckConsent"] > 0


def test_one_off_headers_from_this_machine(sandbox: Sandbox, client: RetryingClient) -> None:
    timed = client.call("ListOA", {}, **{"X-Sandbox-Delay": "50ms"})
    assert timed.status_code == 200 and timed.elapsed.total_seconds() >= 0.05
    client.attempts = 1
    busy = client.call("ListOA", {}, **{"X-Sandbox-Fault": "unavailable; retry_after=2s"})
    assert (busy.status_code, busy.headers["Retry-After"]) == (503, "2")
    assert "X-Sandbox-Fault-Rule" not in busy.headers  # a one-off, not a rule
    with pytest.raises(httpx.RemoteProtocolError):
        client.call("ListOA", {}, **{"X-Sandbox-Fault": "drop"})
    assert client.call("ListOA", {}).status_code == 200
