"""etelecom-sandbox serve, as a user runs it: readiness line, real port, restarts, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO, DEMO_OA
from tests.processes import read_line, run_cli, serve_process, serving

AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
BODY = {
    "oa_id": DEMO_OA,
    "phone": "0912345678",
    "call_type": "audio",
    "reason_code": "update_order",
}

pytestmark = pytest.mark.slow


def test_serve_port_0_prints_the_real_url_and_answers(tmp_path: Path) -> None:
    with serving(["--store", f"sqlite:{tmp_path / 'a.sqlite3'}"]) as url:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        created = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH)
        assert created.status_code == 200, created.text
        health = httpx.get(f"{url}/_sandbox/health").json()
        assert (health["store"], health["consents"]) == ("sqlite", 1)


def test_serve_prints_the_demo_shop_keys_and_one_stdout_line() -> None:
    with serve_process(["--store", "memory"]) as (url, process):
        demo = read_line(process.stderr)
        assert DEMO.demo_api_key in demo and DEMO.demo_shop_key in demo and DEMO_OA in demo
        process.terminate()
        rest, _ = process.communicate(timeout=10)
    assert rest == ""  # the readiness line was the only line on stdout
    assert url.startswith("http://127.0.0.1:")


def test_restarting_serve_keeps_every_consent(tmp_path: Path) -> None:
    store = ["--store", f"sqlite:{tmp_path / 'keep.sqlite3'}"]
    with serving(store) as url:
        made = [
            httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH).json()
            for _ in range(3)
        ]
    with serving(store) as url:
        listed = httpx.post(f"{url}/v1/shop.Zalo/ListRequestConsent", json={}, headers=AUTH)
        assert listed.json()["consents"] == list(reversed(made))


def test_default_store_is_sqlite_in_the_working_directory(tmp_path: Path) -> None:
    with serving([], cwd=str(tmp_path)) as url:
        assert httpx.get(f"{url}/_sandbox/health").json()["store"] == "sqlite"
    assert (tmp_path / "etelecom-sandbox.sqlite3").exists()


def test_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["serve", "--port", str(port), "--store", "memory"])
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["serve", "--store", "redis"], "unknown store"),
        (["serve", "--store", "sqlite:/nonexistent/dir/x.sqlite3"], "cannot start"),
        (["serve", "--port", "http"], "Invalid value"),
        (["serve", "--colour", "blue"], "No such option"),
        (["serf"], "No such command"),
        (["fixtures", "generate"], "Missing option"),
    ],
)
def test_bad_flags_fail_clearly(args: list[str], says: str) -> None:
    result = run_cli(args)
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("etelecom-sandbox: error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_non_loopback_host_needs_a_control_token() -> None:
    result = run_cli(["serve", "--host", "0.0.0.0", "--port", "0", "--store", "memory"])
    assert result.returncode != 0
    assert "--control-token" in result.stderr and "Traceback" not in result.stderr


def test_control_token_and_scenarios_flags(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - phone: '0912345678'\n    outcome: no_zalo\n")
    args = ["--store", "memory", "--control-token", "tok", "--scenarios", str(rules)]
    with serving(args) as url:
        assert httpx.get(f"{url}/_sandbox/health").status_code == 401
        token = {"Authorization": "Bearer tok"}
        assert httpx.get(f"{url}/_sandbox/health", headers=token).status_code == 200
        made = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH).json()
        assert (made["status"], made["error_code"]) == ("N", -213)


def test_unreadable_scenario_file_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(["serve", "--store", "memory", "--scenarios", str(tmp_path / "nope.yaml")])
    assert result.returncode != 0
    assert "scenario file" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
