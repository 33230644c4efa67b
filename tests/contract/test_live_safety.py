"""Live-mode safety, end to end: the kit's CLI against a local server that records what it
receives, with `--assume-live` so that the local URL gets the live rules. The CLI and pytest run
in this process (tests/contract/servers.py); the server is reached over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from contract_tests.options import LIVE_REQUEST_CAP
from contract_tests.redact import MASK
from contract_tests.specfacts import facts
from mock_server import Settings
from mock_server.domain.phones import normalize_phone
from tests.contract.broken import BROKEN, echoes_keys
from tests.contract.servers import Recorder, run_cli, run_pytest, sandbox_app, serving

pytestmark = pytest.mark.slow  # each runs the kit's quick profile

DEMO = Settings()
OA = str(DEMO.demo_oa_ids[0])
LIVE = ["--assume-live", "--quick", "--api-key", DEMO.demo_api_key]
LIVE += ["--partner-key", DEMO.demo_shop_key]
WRITES = {op.path for op in facts().operations if op.writes}
NUMBER_IDS = BROKEN["returns an id as a number"][1]  # what the kit says of ids as numbers
REQUEST_CONSENT = {op.path for op in facts().operations if op.name == "RequestConsent"}


def test_without_permission_a_live_run_sends_no_write(tmp_path: Path) -> None:
    recorder = Recorder(sandbox_app())
    with serving(recorder) as url:
        run = run_cli("contract", ["--base-url", url, *LIVE], tmp_path)
    paths = [r.path for r in recorder.received]
    assert not [p for p in paths if p in WRITES or not facts().by_path(p)], paths
    assert 0 < len(paths) <= LIVE_REQUEST_CAP
    assert run.code == 0, run.out
    assert "stopped at the request cap" in run.out


def test_with_permission_live_writes_use_only_the_test_phones(tmp_path: Path) -> None:
    phones = ["0911111111", "+84922222222"]
    args = [*LIVE, "--allow-writes", "--oa-id", OA, "--max-requests", "300"]
    args += [f"--test-phone={phone}" for phone in phones]
    recorder = Recorder(sandbox_app())
    with serving(recorder) as url:
        run = run_cli("contract", ["--base-url", url, *args], tmp_path)
    sent = [orjson.loads(r.body) for r in recorder.received if r.path in REQUEST_CONSENT]
    assert sent, "writes were allowed, yet none ran"
    assert {normalize_phone(body["phone"]) for body in sent} <= {normalize_phone(p) for p in phones}
    other_writes = [r.path for r in recorder.received if r.path in WRITES - REQUEST_CONSENT]
    assert other_writes == []  # a write without a phone cannot be held to the test phones
    assert run.code == 0, run.out


def test_the_request_cap_holds(tmp_path: Path) -> None:
    recorder = Recorder(sandbox_app())
    with serving(recorder) as url:
        run = run_cli("contract", ["--base-url", url, *LIVE, "--max-requests", "7"], tmp_path)
    assert len(recorder.received) == 7
    assert run.code == 0, run.out
    assert "stopped at the request cap" in run.out


def test_keys_appear_in_no_output_and_no_report(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    key, partner_key = "77:kit-test-key-not-for-print", "shop77:kit-test-partner-key-hidden"
    with serving(echoes_keys()) as url:
        made = httpx.post(
            f"{url}/_sandbox/shops",
            json={"shop_id": "77", "api_key": key, "shop_key": partner_key, "oa_ids": [OA]},
        )
        assert made.status_code == 201, made.text
        target = ["--base-url", url, "--oa-id", OA]
        keys = ["--api-key", key, "--partner-key", partner_key]
        cli = run_cli("contract", [*target, "--quick", *keys], tmp_path)
        options = [f"--etelecom-base-url={url}", "--etelecom-profile=quick", "--etelecom-oa-id", OA]
        direct = run_pytest(
            options,
            tmp_path,
            {"ETELECOM_API_KEY": key, "ETELECOM_PARTNER_KEY": partner_key},
        )
    # Nor anything written straight to this process's stdout or stderr during the runs.
    written = capfd.readouterr()
    for run in (cli, direct):
        # Ids come back as numbers: the run fails, names the rule and prints answers, which
        # echo the keys.
        assert run.code == 1, run.out
        assert NUMBER_IDS in run.out and "<failure" in run.junit and NUMBER_IDS in run.junit
        assert MASK in run.out + run.junit
        for text in (run.out, run.err, run.junit, written.out, written.err):
            for secret in (key, partner_key, key.split(":")[1], partner_key.split(":")[1]):
                assert secret not in text
    assert " 0 failed," not in cli.out.strip().splitlines()[-1]  # the CLI's summary says so
