"""Every command the README shows is run here, as a newcomer would run it.

Shell blocks run in order, with bash, against one sandbox this test starts (port 8080 in the
README becomes the real port; curl fails on an HTTP error). Blocks marked `server` start a
server and wait for its readiness line. `make test` is what .ci/run runs. Python blocks run as
a pytest file of an integrator's project. Inline commands (`etelecom-sandbox …`, `make …`) run
too.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

import httpx
import pytest
import yaml

from mock_server import Settings
from mock_server.domain.timefmt import parse_rfc3339
from tests.inline_pytest import fresh_warning_filters
from tests.postgres import fresh_schema
from tests.processes import READY, read_line, serving_all, serving_in_process

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"(?:<!-- readme-test: (\w+) -->\n)?```(\w*)\n(.*?)```", re.S)
INLINE = re.compile(r"`((?:etelecom-sandbox|make) [^`]+)`")
BIN = str(Path(sys.executable).parent)
CURL_FAILS_ON_ERRORS = 'curl() { command curl --fail-with-body --max-time 20 "$@"; }\n'

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]


def blocks(language: str, mark: str | None) -> list[str]:
    return [
        body for m, lang, body in BLOCK.findall(README) if lang == language and (m or None) == mark
    ]


def server_commands() -> list[str]:
    lines = [line for body in blocks("sh", "server") for line in body.splitlines()]
    inline = [c for c in INLINE.findall(README) if " serve" in c or c.startswith("make sandbox")]
    return [
        line.split("  #")[0].strip()
        for line in lines + inline
        if line.strip() and not line.startswith("#")
    ]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **extra}


def test_the_readme_has_what_a_newcomer_needs() -> None:
    for heading in (
        "## Quick start",
        "### Magic phones",
        "### Moving the clock",
        "## Webhooks",
        "## Testing failure handling",
        "## In your own tests",
        "## Contract tests",
        "## In CI",
        "## Fidelity notes",
    ):
        assert heading in README
    assert blocks("sh", "ci") == [
        "make test      # sets up .venv, then ruff, mypy, lint-imports and every test\n"
    ]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert len(server_commands()) >= 4


def shell_blocks() -> list[tuple[str, bool]]:
    """Every shell block, and whether it is a live-API block (run as a rehearsal)."""
    return [(b, False) for b in blocks("sh", None)] + [(b, True) for b in blocks("sh", "live")]


def block_id(block: tuple[str, bool]) -> str:
    """A block's first command or comment, for the test's name."""
    first = next(line for line in block[0].splitlines() if line.strip())
    return ("live: " if block[1] else "") + first[:60]


@pytest.mark.parametrize("block", shell_blocks(), ids=block_id)
def test_every_shell_block_runs_against_a_sandbox(block: tuple[str, bool], tmp_path: Path) -> None:
    """Each block, as written, against a sandbox of its own, started by `serve` (in this
    process): the contract block's `--base-url` run is the kit passing against `serve` with
    its default, running clock; the other blocks get a frozen one."""
    body, live = block
    args = ["--store", "memory"]
    if "etelecom-sandbox contract " not in body:  # the kit's blocks: the CLI's running clock
        args += ["--clock-start", "2026-01-01T00:00:00Z", "--clock-rate", "0"]
    with serving_in_process(args) as (url, _):
        port = url.rsplit(":", 1)[1]
        if live:
            body = live_rehearsal(body, url)
        script = CURL_FAILS_ON_ERRORS + body.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env(),
            capture_output=True,
            text=True,
            timeout=300,  # a guard against a hang: the kit blocks take tens of seconds
        )
    assert result.returncode == 0, f"{body}\n{result.stdout}\n{result.stderr}"
    # Each kit run reported (the kit's line), and `contract` its summary: no failure.
    contract = body.count("etelecom-sandbox contract ")
    kits = re.findall(r"^etelecom contract kit: ", result.stdout, re.M)
    assert len(kits) == contract + body.count("pytest --pyargs contract_tests"), result.stdout
    summaries = re.findall(r"^contract: \d+ passed, 0 failed, 0 errors", result.stdout, re.M)
    assert len(summaries) == contract, result.stdout
    if "--out big.jsonl" in body:
        assert (tmp_path / "big.jsonl").exists()  # the datasets block made its file
    if "--junit contract.xml" in body:  # every suite ran, and passed
        suite = ET.parse(tmp_path / "contract.xml").getroot().find("testsuite")
        assert suite is not None and int(suite.get("tests", 0)) > 50
        assert (suite.get("failures"), suite.get("errors")) == ("0", "0")


def test_the_blocks_are_all_run() -> None:
    """The README's datasets, contract and live blocks are among those run."""
    every = "\n".join(body for body, _ in shell_blocks())
    for command in ("--out big.jsonl", "etelecom-sandbox contract --quick", "--allow-writes"):
        assert command in every


def live_rehearsal(block: str, url: str) -> str:
    """A live-API block, pointed at a local sandbox that the kit treats as live (--assume-live):
    the same flags and safety rules, with the demo shop's keys and a test phone filled in."""
    settings = Settings()
    filled = (
        block.replace("https://api.etelecom.vn", url)
        .replace("ETELECOM_API_KEY=...", f"ETELECOM_API_KEY={settings.demo_api_key}")
        .replace("ETELECOM_PARTNER_KEY=...", f"ETELECOM_PARTNER_KEY={settings.demo_shop_key}")
        .replace("YOUR_OA_ID", str(settings.demo_oa_ids[0]))
        .replace("09XXXXXXXX", "0912345678")
    )
    assert "..." not in filled and "XXX" not in filled, filled
    return filled.replace("etelecom-sandbox contract ", "etelecom-sandbox contract --assume-live ")


@pytest.mark.parametrize("command", server_commands())
def test_every_server_command_starts(command: str, tmp_path: Path) -> None:
    words = shlex.split(command)
    extra = {}
    if words[0] == "make":
        extra = {"PORT": "0", "SERVE_ARGS": f"--store sqlite:{tmp_path / 'make.sqlite3'}"}
        words += [f"{k}={v}" for k, v in extra.items() if f"{k}=" not in command]
        # .venv is set up already (these tests run from it): make must not set it up again,
        # which would reinstall from the network whenever pyproject.toml is newer.
        words.insert(1, "--old-file=.venv/.installed")
    else:
        words += ["--port", "0"]
    if "big.jsonl" in command:  # the file the datasets block makes, made here the same way
        subprocess.run(
            [
                f"{BIN}/etelecom-sandbox",
                "fixtures",
                "generate",
                "--consents",
                "50",
                "--out",
                str(tmp_path / "big.jsonl"),
            ],
            check=True,
        )
    # serve runs in a folder of its own (its default SQLite file lands there), beside the
    # README's fixtures; make needs the Makefile.
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    with (tmp_path / "stderr").open("w+") as errors:
        _wait_for_readiness(command, words, tmp_path, errors)


def _wait_for_readiness(command: str, words: list[str], tmp_path: Path, errors: IO[str]) -> None:
    """Start `words`, wait for its readiness line and stop it (its stderr goes to `errors`)."""
    process = subprocess.Popen(
        words,
        cwd=ROOT if words[0] == "make" else tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        start_new_session=True,
    )
    try:
        seen: list[str] = []
        while not any(READY.search(line) for line in seen):  # make echoes its command first
            line = read_line(process.stdout, timeout=300)
            if not line:  # the process ended without saying it was ready
                errors.seek(0)
                pytest.fail(f"{command}: {seen}\n{errors.read()}")
            seen.append(line)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make and the server it started
        process.wait(30)
        if process.stdout:
            process.stdout.close()


def test_python_blocks_run_as_an_integrators_tests(pytester: pytest.Pytester) -> None:
    """Each block is a test file of an integrator's project, run by pytest (in this process)."""
    python = blocks("python", None)
    pytester.makepyfile(**{f"test_readme_{n}": body for n, body in enumerate(python)})
    with fresh_warning_filters():
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(python))


def test_ci_example_commands_are_the_tested_ones() -> None:
    """The CI example installs the project and runs pytest with the plugin under xdist: what
    tests/test_wheel.py and tests/test_pytest_plugin.py::test_plugin_under_xdist do."""
    (yaml_block,) = blocks("yaml", None)
    runs = re.findall(r"- run: (.+?)\s+#", yaml_block)
    assert runs == ["pip install './etelecom-sandbox[contract]'", "pytest -n auto"]
    assert (
        "def test_wheel_in_a_fresh_venv_serves_the_api"
        in (ROOT / "tests/test_wheel.py").read_text()
    )
    assert "def test_plugin_under_xdist" in (ROOT / "tests/test_pytest_plugin.py").read_text()


def test_the_team_example_serves_two_instances_on_one_database() -> None:
    """The compose example's instances, as its commands and environment say, on the test
    PostgreSQL server (a fresh schema standing in for its `db` service), on loopback."""
    (block,) = blocks("yaml", "compose")
    services = yaml.safe_load(block)["services"]
    db = services["db"]["environment"]
    instances = [s for name, s in services.items() if name.startswith("sandbox")]
    assert len(instances) == 2 and {
        i["environment"]["ETELECOM_SANDBOX_STORE"] for i in instances
    } == {
        f"postgresql://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@db:5432/{db['POSTGRES_DB']}"
    }
    with fresh_schema() as store:
        arg_lists = []
        for instance in instances:
            (serve,) = re.findall(r"exec etelecom-sandbox serve ([^\"]+)", instance["command"])
            words = shlex.split(serve)
            words[words.index("--host") + 1] = "127.0.0.1"
            del words[words.index("--port") : words.index("--port") + 2]
            arg_lists.append(words)
        environment = {**instances[0]["environment"], "ETELECOM_SANDBOX_STORE": store}
        token = {"Authorization": f"Bearer {environment['ETELECOM_SANDBOX_CONTROL_TOKEN']}"}
        with serving_all(arg_lists, env=environment) as started:
            (a, _), (b, _) = started
            shop = httpx.post(f"{a}/_sandbox/shops", json={}, headers=token).json()
            key = {"Authorization": f"Bearer {shop['api_key']}"}
            me = httpx.post(f"{b}/v1/shop.Misc/CurrentAccount", json={}, headers=key).json()
            assert me["id"] == shop["shop_id"]

            def now(answer: httpx.Response) -> int:
                return parse_rfc3339(answer.json()["now"])

            before = now(httpx.get(f"{a}/_sandbox/clock", headers=token))
            moved = now(httpx.post(f"{b}/_sandbox/clock", json={"advance": "1h"}, headers=token))
            after = now(httpx.get(f"{a}/_sandbox/clock", headers=token))  # the clock runs
            assert after >= moved >= before + 3_600_000
            assert httpx.get(f"{a}/_sandbox/clock").status_code == 401  # the token is needed
