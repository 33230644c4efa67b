"""The kit catches real defects: over HTTP, against servers that each break one rule, the
kit's suite that owns the rule (quick profile) fails and names it. The whole kit (`contract
--quick`) fails on one of them and names it in test_live_safety.py, and passes against a
sandbox started by `serve` in the README's contract block (test_readme.py).

The kit runs in this process (tests/contract/servers.py); it talks to each server over HTTP
all the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from tests.contract.broken import BROKEN
from tests.contract.servers import run_pytest, serving

pytestmark = pytest.mark.slow  # each runs the kit's quick profile


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
