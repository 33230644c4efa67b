"""etelecom-sandbox serve, as a user runs it: readiness line, real port, restarts, clear errors.

The first test runs `serve` as a real process; the others run the same command in this process
(tests/processes.py: `invoke`, `serving_in_process`).
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO, DEMO_OA
from tests.processes import invoke, read_line, serve_process, serving_in_process

AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
BODY = {
    "oa_id": DEMO_OA,
    "phone": "0912345678",
    "call_type": "audio",
    "reason_code": "update_order",
}


@pytest.mark.slow
def test_serve_port_0_prints_the_real_url_the_demo_keys_and_answers(tmp_path: Path) -> None:
    with serve_process(["--store", f"sqlite:{tmp_path / 'a.sqlite3'}"]) as (url, process):
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        demo = read_line(process.stderr)
        assert DEMO.demo_api_key in demo and DEMO.demo_shop_key in demo and DEMO_OA in demo
        created = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH)
        assert created.status_code == 200, created.text
        health = httpx.get(f"{url}/_sandbox/health").json()
        assert (health["store"], health["consents"]) == ("sqlite", 1)
        process.terminate()
        rest, _ = process.communicate(timeout=10)
    assert rest == ""  # the readiness line was the only line on stdout


def test_serve_in_process_prints_one_stdout_line_and_the_demo_keys_on_stderr() -> None:
    with serving_in_process(["--store", "memory"]) as (url, ran):
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert ran.stdout.count("\n") == 1 and ran.stdout.startswith("etelecom-sandbox ready on ")
        assert f"shop API {url}/v1/shop, partner API {url}/v1/partner" in ran.stdout
        assert DEMO.demo_api_key in ran.stderr and DEMO.demo_shop_key in ran.stderr
        assert httpx.get(f"{url}/_sandbox/health").json()["store"] == "memory"


def test_restarting_serve_keeps_every_consent(tmp_path: Path) -> None:
    store = ["--store", f"sqlite:{tmp_path / 'keep.sqlite3'}"]
    with serving_in_process(store) as (url, _):
        made = [
            httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH).json()
            for _ in range(3)
        ]
    with serving_in_process(store) as (url, _):
        listed = httpx.post(f"{url}/v1/shop.Zalo/ListRequestConsent", json={}, headers=AUTH)
        assert listed.json()["consents"] == list(reversed(made))


def test_default_store_is_sqlite_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with serving_in_process([]) as (url, _):
        assert httpx.get(f"{url}/_sandbox/health").json()["store"] == "sqlite"
    assert (tmp_path / "etelecom-sandbox.sqlite3").exists()


def test_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(["serve", "--port", str(port), "--store", "memory"])
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
    result = invoke(args)
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("etelecom-sandbox: error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_non_loopback_host_needs_a_control_token() -> None:
    result = invoke(["serve", "--host", "0.0.0.0", "--port", "0", "--store", "memory"])
    assert result.returncode != 0
    assert "--control-token" in result.stderr and "Traceback" not in result.stderr


def test_control_token_and_scenarios_flags(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - phone: '0912345678'\n    outcome: no_zalo\n")
    args = ["--store", "memory", "--control-token", "tok", "--scenarios", str(rules)]
    with serving_in_process(args) as (url, _):
        assert httpx.get(f"{url}/_sandbox/health").status_code == 401
        token = {"Authorization": "Bearer tok"}
        assert httpx.get(f"{url}/_sandbox/health", headers=token).status_code == 200
        made = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH).json()
        assert (made["status"], made["error_code"]) == ("N", -213)


def test_unreadable_scenario_file_is_one_clear_line(tmp_path: Path) -> None:
    result = invoke(["serve", "--store", "memory", "--scenarios", str(tmp_path / "nope.yaml")])
    assert result.returncode != 0
    assert "scenario file" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
