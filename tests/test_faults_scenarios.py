"""Fault rules in scenario files: the global rules at start-up and after a reset, counts kept
across a restart, and `serve --scenarios` with faults (a bad rule is one line on stderr)."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.spec import data_dir
from tests.conftest import DEMO, DEMO_OA, JSON_CALLS, START
from tests.processes import invoke, serving_in_process
from tests.specs import SPECS

EXAMPLE = data_dir("fixtures") / "scenarios" / "example-faults.yaml"
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
BODY = {
    "oa_id": DEMO_OA,
    "phone": "0912345678",
    "call_type": "audio",
    "reason_code": "update_order",
}


def request_consent(client: TestClient | httpx.Client, phone: str = "0912345678") -> int:
    answer = client.post(
        "/v1/shop.Zalo/RequestConsent", json={**BODY, "phone": phone}, headers=AUTH
    )
    return answer.status_code


def test_the_example_files_faults_and_rules_are_the_global_ones(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'example.sqlite3'}"
    settings = Settings(store=store, clock_start=START, clock_rate=0, scenarios=str(EXAMPLE))
    with TestClient(create_app(settings, SPECS), headers=JSON_CALLS) as client:
        ids = [r["id"] for r in client.get("/_sandbox/faults").json()["global"]]
        assert ids == ["busy-twice", "lost-answer", "slow-lists", "flaky-webhooks"]
        assert request_consent(client) == 503
    with TestClient(
        create_app(settings, SPECS), headers=JSON_CALLS
    ) as client:  # a restart keeps the counts
        assert [request_consent(client) for _ in range(2)] == [503, 200]
        assert request_consent(client, "0912000999") == 408  # the write went through
        listed = client.post("/v1/shop.Zalo/ListRequestConsent", json={}, headers=AUTH)
        assert listed.headers["X-Sandbox-Fault-Rule"] == "slow-lists"
        assert [c["phone"] for c in listed.json()["consents"]] == ["0912000999", "0912345678"]
        client.post("/_sandbox/reset").raise_for_status()  # the file's rules come back, fresh
        (busy, *_) = client.get("/_sandbox/faults").json()["global"]
        assert (busy["id"], busy["hits"], busy["active"]) == ("busy-twice", 0, True)


def test_a_file_of_faults_only_leaves_the_scenario_rules_alone(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - match: {operation: '*'}\n    action: {hang: true}\n")
    settings = Settings(store="memory", clock_start=START, clock_rate=0, scenarios=str(path))
    with TestClient(create_app(settings, SPECS), headers=JSON_CALLS) as client:
        assert client.get("/_sandbox/rules").json()["global"] == []
        (rule,) = client.get("/_sandbox/faults").json()["global"]
        assert rule["id"] == "fault-1"


def test_serve_with_a_scenario_file_of_faults() -> None:
    with (
        serving_in_process(["--store", "memory", "--scenarios", str(EXAMPLE)]) as (url, _),
        httpx.Client(base_url=url) as http,
    ):
        assert [request_consent(http) for _ in range(3)] == [503, 503, 200]
        states = http.get("/_sandbox/faults").json()["global"]
    assert states[0]["hits"] == 2 and states[0]["active"] is False


def test_a_bad_fault_in_a_scenario_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("faults:\n  - match: {operation: Nope}\n    action: {drop: true}\n")
    result = invoke(["serve", "--store", "memory", "--scenarios", str(path)])
    assert result.returncode != 0
    assert "faults[0].match.operation" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
