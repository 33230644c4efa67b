"""A sandbox whose PostgreSQL goes away: the cluster is stopped under a serving instance, which
answers Twirp `unavailable` (503) to every request that needs the store, keeps its webhook
sender alive and the coverage it counted, and recovers by itself when the cluster starts again;
the store's password shows in no line it writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract_tests.receiver import receiving
from tests.conftest import DEMO, DEMO_OA, START
from tests.postgres import server_url
from tests.processes import serve_process

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
CLUSTER = Path(__file__).resolve().parent.parent / "scripts" / "pg_cluster.py"
BODY = {
    "oa_id": DEMO_OA,
    "phone": "0912345678",
    "call_type": "audio",
    "reason_code": "update_order",
}
LATER = {**BODY, "phone": "0912345679"}
RECOVERY_SECONDS = 60.0


def cluster(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(CLUSTER), *args], capture_output=True, text=True, timeout=180
    )
    if done.returncode:
        if "no PostgreSQL server binaries" in done.stderr:
            pytest.skip("stopping a database needs PostgreSQL's server binaries (initdb)")
        raise AssertionError(done.stderr)
    return done.stdout.strip()


@pytest.fixture
def own_cluster() -> Iterator[tuple[Path, str]]:
    """A cluster of this test's own (it is stopped and started again), on a short path: a
    unix socket's path has a length limit."""
    server_url()  # the PostgreSQL tests run where a server is given, and only there
    folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    try:
        yield folder, cluster("start", str(folder))
    finally:
        subprocess.run([sys.executable, str(CLUSTER), "stop", str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_lost_database_answers_unavailable_and_the_instance_recovers(
    own_cluster: tuple[Path, str],
) -> None:
    folder, url = own_cluster
    password = url.split(":")[2].split("@")[0]
    env = {"ETELECOM_SANDBOX_POSTGRES_TIMEOUT_SECONDS": "0.3"}  # 503 soon
    args = ["--store", url, "--clock-start", START, "--clock-rate", "0"]
    with (
        receiving() as hook,
        serve_process(args, env=env) as (base, process),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        target = {"oa_id": DEMO_OA, "webhook_url": hook.url}
        assert http.post("/v1/shop.Zalo/UpdateShopOA", json=target, headers=AUTH).is_success
        before = http.post("/v1/shop.Zalo/RequestConsent", json=BODY, headers=AUTH)
        assert before.status_code == 200, before.text
        assert http.post("/_sandbox/webhooks/drain", json={}).json()["pending"] == 0
        check = {"oa_id": DEMO_OA, "phone": "0912345678"}
        assert http.post("/v1/shop.Zalo/CheckConsent", json=check, headers=AUTH).is_success

        cluster("stop", str(folder))
        for method, path, body in [
            ("POST", "/v1/shop.Zalo/RequestConsent", BODY),
            ("POST", "/v1/shop.Zalo/ListRequestConsent", {}),
            ("POST", "/v1/shop.Zalo/CheckConsent", {"oa_id": DEMO_OA, "phone": "0912345678"}),
            ("GET", "/_sandbox/clock", None),
            ("POST", "/_sandbox/clock", {"advance": "1m"}),
            ("GET", "/_sandbox/health", None),
            ("GET", "/_sandbox/coverage", None),
        ]:
            answer = http.request(method, path, json=body, headers=AUTH)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["code"] == "unavailable", answer.text
            assert password not in answer.text

        cluster("start", str(folder))
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:  # each try waits for the pool (0.3 s at most): no sleeping here
            after = http.post("/v1/shop.Zalo/RequestConsent", json=LATER, headers=AUTH)
            if after.status_code == 200 or time.monotonic() > deadline:
                break
            assert after.status_code == 503, after.text
        assert after.status_code == 200, after.text
        assert int(after.json()["id"]) > int(before.json()["id"])
        listed = http.post("/v1/shop.Zalo/ListRequestConsent", json={}, headers=AUTH).json()
        assert listed["consents"] == [after.json(), before.json()]  # nothing lost
        # The webhook sender lived through it: the new request's event arrives.
        assert http.post("/_sandbox/webhooks/drain", json={}).json() == {
            "delivered": 2,
            "failed": 0,
            "pending": 0,
        }
        assert [e["request_type"] for e in hook.events] == ["SENT", "SENT"]
        # What it counted before the outage was kept (in memory, if it was not written yet).
        coverage = http.get("/_sandbox/coverage", params={"shop_id": str(DEMO.demo_shop_id)})
        reached = {i["id"]: i["count"] for i in coverage.json()["items"] if i["reached"]}
        assert {k: v for k, v in reached.items() if k.startswith("check.")} == {"check.2": 1}
        assert reached["webhook.SENT"] == 2
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "webhook delivery waits for the store" in err
    assert password not in err
