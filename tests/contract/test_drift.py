"""`etelecom-sandbox drift` against a server that drifts in every way the report knows (the
command as a real process), and against the sandbox, which does not drift (the command in this
process)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp

from contract_tests.drift import KINDS
from contract_tests.specfacts import facts
from mock_server import Settings
from tests.contract.broken import drifts
from tests.contract.servers import Recorder, Run, run_cli, run_cli_process, sandbox_app, serving

DEMO = Settings()


def seeded(url: str) -> None:
    """A few consents in the demo shop, so that listings have something to show."""
    for n in range(3):
        body = {
            "oa_id": str(DEMO.demo_oa_ids[0]),
            "phone": f"091234567{n}",
            "call_type": "audio",
            "reason_code": "update_order",
        }
        auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
        response = httpx.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=auth)
        assert response.status_code == 200, response.text


def drift_of(
    app: ASGIApp, tmp_path: Path, cli: Callable[[str, Sequence[str], Path], Run]
) -> tuple[int, dict[str, object], str, list[str]]:
    recorder = Recorder(app)
    with serving(recorder) as url:
        seeded(url)
        before = len(recorder.received)
        run = cli("drift", ["--base-url", url, "--out", str(tmp_path / "out")], tmp_path)
    sent = [r.path for r in recorder.received[before:]]
    report = json.loads((tmp_path / "out" / "drift.json").read_text(encoding="utf-8"))
    markdown = (tmp_path / "out" / "drift.md").read_text(encoding="utf-8")
    assert run.out.startswith("drift: "), run.out + run.err
    return run.code, report, markdown, sent


@pytest.mark.slow
def test_every_kind_of_drift_is_reported(tmp_path: Path) -> None:
    code, report, markdown, sent = drift_of(drifts(), tmp_path, run_cli_process)
    assert code == 1
    found = {(d["kind"], d["where"]) for d in report["drift"]}  # type: ignore[attr-defined]
    assert {
        ("fields the spec does not describe", "consents[].region"),
        ("enum values the spec does not list", "consents[].delivery_status"),
        ("type differences", "consents[].user_id"),
        ("status codes not in the spec", "status"),
        ("error codes not in the spec", "code"),
        ("paging rules", "paging.limit"),
    } <= found
    for kind in KINDS:
        assert f"## {kind[0].upper()}{kind[1:]}" in markdown
    assert "'pending' is not a documented value" in markdown
    reads = {op.path for op in facts().operations if not op.writes}
    assert sent and set(sent) <= reads, sent  # read-only, whatever the target


@pytest.mark.slow
def test_the_sandbox_does_not_drift(tmp_path: Path) -> None:
    code, report, markdown, _ = drift_of(sandbox_app(), tmp_path, run_cli)
    assert (code, report["drift"]) == (0, [])
    assert "No drift" in markdown
