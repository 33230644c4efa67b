"""The kit catches real defects: its quick profile, over HTTP, against servers that each break
one rule, must fail and name the rule; against the sandbox itself (run by `serve`) it passes.

`serve` and `contract` run in this process (tests/processes.py, tests/contract/servers.py); the
kit talks to each server over HTTP all the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from tests.contract.broken import BROKEN
from tests.contract.servers import run_cli, serving
from tests.processes import serving_in_process

pytestmark = pytest.mark.slow  # each runs the kit's quick profile


def test_a_sandbox_started_with_serve_passes(tmp_path: Path) -> None:
    with serving_in_process(["--store", "memory"]) as (url, _):
        run = run_cli("contract", ["--base-url", url, "--quick"], tmp_path)
    assert run.code == 0, run.out
    assert " 0 failed, 0 errors, 0 skipped in" in run.out and f"against {url}" in run.out


@pytest.mark.parametrize(("factory", "words"), BROKEN.values(), ids=list(BROKEN))
def test_a_broken_server_fails_the_kit(
    tmp_path: Path, factory: Callable[[], ASGIApp], words: str
) -> None:
    with serving(factory()) as url:
        run = run_cli("contract", ["--base-url", url, "--quick"], tmp_path)
    assert run.code == 1, run.out
    assert words in run.out, run.out
    assert "<failure" in run.junit and words in run.junit
