"""The kit catches real defects: over HTTP, against servers that each break one rule, the
kit's suite that owns the rule (quick profile) fails and names it; `contract --quick`, the
whole kit, fails on one of them and passes against the sandbox itself (run by `serve`).

`serve` and `contract` run in this process (tests/processes.py, tests/contract/servers.py); the
kit talks to each server over HTTP all the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from tests.contract.broken import BROKEN
from tests.contract.servers import run_cli, run_pytest, serving
from tests.processes import serving_in_process

pytestmark = pytest.mark.slow  # each runs the kit's quick profile


def test_a_sandbox_started_with_serve_passes(tmp_path: Path) -> None:
    with serving_in_process(["--store", "memory"]) as (url, _):
        run = run_cli("contract", ["--base-url", url, "--quick"], tmp_path)
    assert run.code == 0, run.out
    assert " 0 failed, 0 errors, 0 skipped in" in run.out and f"against {url}" in run.out


@pytest.mark.parametrize(("factory", "words", "suite"), BROKEN.values(), ids=list(BROKEN))
def test_a_broken_server_fails_the_suite_that_owns_its_rule(
    tmp_path: Path, factory: Callable[[], ASGIApp], words: str, suite: str
) -> None:
    with serving(factory()) as url:
        options = [f"--etelecom-base-url={url}", "--etelecom-profile=quick", "-k", suite]
        run = run_pytest(options, tmp_path, {})
    assert run.code == 1, run.out
    assert words in run.out, run.out
    assert "<failure" in run.junit and words in run.junit


def test_contract_fails_on_a_broken_server_and_names_the_rule(tmp_path: Path) -> None:
    factory, words, _suite = BROKEN["accepts an undocumented enum value"]
    with serving(factory()) as url:
        run = run_cli("contract", ["--base-url", url, "--quick"], tmp_path)
    assert run.code == 1, run.out
    assert words in run.out, run.out
    assert "<failure" in run.junit and words in run.junit
    assert " 0 failed," not in run.out.strip().splitlines()[-1]
