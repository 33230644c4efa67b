"""The two ways to run the kit: `pytest --pyargs contract_tests` (from any directory) and
`etelecom-sandbox contract`. (test_broken_servers.py runs it against a sandbox from `serve`.)

`contract --quick` runs here as a real process, the one test that does: the others run the
command, or pytest, in this process (tests/contract/servers.py)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.contract.servers import run_cli, run_cli_process, run_pytest


@pytest.mark.slow
def test_pytest_pyargs_takes_the_kit_options_from_any_directory(tmp_path: Path) -> None:
    run = run_pytest(
        ["--etelecom-profile", "quick", "-k", "test_page_limit_is_clamped"],
        tmp_path,
        {},
    )
    assert run.code == 0, run.out + run.err
    assert "etelecom contract kit: in-process sandbox, profile quick" in run.out
    assert "4 passed" in run.out


@pytest.mark.slow
def test_contract_quick_in_process_passes_with_junit_and_a_summary(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    # The suites of one operation, whose data need the Unicode tables: what the process does
    # around its suites is the point here. The README's contract block runs them all so.
    env["PYTEST_ADDOPTS"] = "-k CheckConsent"
    run = run_cli_process("contract", ["--quick"], tmp_path, env)
    assert run.code == 0, run.out
    summary = run.out.strip().splitlines()[-1]
    assert summary.startswith("contract: ") and "0 failed, 0 errors" in summary
    assert "against an in-process sandbox (profile quick)" in summary
    suite = ET.fromstring(run.junit).find("testsuite")
    assert suite is not None and int(suite.get("tests", 0)) >= 4
    assert not list(tmp_path.glob(".hypothesis"))  # the run leaves nothing behind
    # but Hypothesis' Unicode tables, for the next run, in the user's cache folder
    assert list((tmp_path / "cache/etelecom-sandbox/hypothesis/unicode_data").rglob("*.gz"))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--allow-writes"], "--allow-writes needs at least one --test-phone"),
        (["--allow-writes", "--test-phone", "12345"], "not a phone the spec accepts"),
        (["--max-requests", "0"], "--max-requests"),
    ],
)
def test_contract_refuses_unsafe_or_wrong_flags(tmp_path: Path, args: list[str], says: str) -> None:
    run = run_cli("contract", args, tmp_path)
    assert run.code == 2
    assert says in run.err
