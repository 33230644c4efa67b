"""Nothing accepted is lost: a serving sandbox (SQLite, PostgreSQL) is killed -9 while clients
send RequestConsents at once; after a restart every acknowledged consent is there, unchanged."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO, DEMO_OA, START
from tests.postgres import fresh_schema
from tests.processes import serve_process, serving_in_process

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
CLIENTS = 4


def send_until_refused(
    url: str, client: int, acknowledged: list[dict[str, Any]], enough: threading.Event, count: int
) -> None:
    """RequestConsents in a loop; each answered one is kept (`enough` is set at `count`).
    Stops when the server is gone."""
    with httpx.Client(timeout=10) as http:
        for n in range(100_000):
            body = {
                "oa_id": DEMO_OA,
                "phone": f"09{client}{n % 10_000_000:07d}",
                "call_type": "audio",
                "reason_code": "update_order",
            }
            try:
                answer = http.post(f"{url}/v1/shop.Zalo/RequestConsent", json=body, headers=AUTH)
            except httpx.HTTPError:
                return
            if answer.status_code == 200:
                acknowledged.append(answer.json())
                if len(acknowledged) >= count:
                    enough.set()


def everything(url: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    after = "."
    with httpx.Client(timeout=30) as http:
        while after:
            page = http.post(
                f"{url}/v1/shop.Zalo/ListRequestConsent",
                json={"paging": {"after": after, "sort": "created_at"}},
                headers=AUTH,
            ).json()
            found.update({c["id"]: c for c in page["consents"]})
            after = page["paging"]["next"]
    return found


@pytest.mark.parametrize(
    ("store", "kill_after"), [("sqlite", 200), ("sqlite", 600), ("postgresql", 400)]
)
def test_acknowledged_consents_survive_kill_9(tmp_path: Path, store: str, kill_after: int) -> None:
    with ExitStack() as stack:
        where = f"sqlite:{tmp_path / 'kept.sqlite3'}"
        if store == "postgresql":
            where = stack.enter_context(fresh_schema())
        kill_and_restart(
            ["--store", where, "--clock-start", START, "--clock-rate", "0"], kill_after
        )


def kill_and_restart(args: list[str], kill_after: int) -> None:
    acknowledged: list[dict[str, Any]] = []
    enough = threading.Event()
    with serve_process(args) as (url, process):
        threads = [
            threading.Thread(
                target=send_until_refused, args=(url, n, acknowledged, enough, kill_after)
            )
            for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        assert enough.wait(120), "the sandbox stopped answering before the kill"
        os.kill(process.pid, signal.SIGKILL)  # mid-traffic: the clients are still sending
        for thread in threads:
            thread.join(60)
        assert process.wait(30) == -signal.SIGKILL
    assert len(acknowledged) >= kill_after
    with serving_in_process(args) as (url, _):  # the restart: serve again, in this process
        kept = everything(url)
    lost = [c["id"] for c in acknowledged if c["id"] not in kept]
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged consents lost"
    changed = [c["id"] for c in acknowledged if kept[c["id"]] != c]
    assert not changed, changed[:5]
