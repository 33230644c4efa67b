"""Integration coverage through the control API, on a served sandbox on each store: each item
reached by the traffic that should reach it, with its count and example, the misuse rules,
reset, and counts that several processes on one store add up."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, JSON_CALLS, START, STORES, store_for
from tests.specs import SPECS

SHOP = str(DEMO.demo_shop_id)
AUTH = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
PARTNER = {"Authorization": f"Bearer {DEMO.demo_shop_key}"}


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def wire(self, method: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(f"/v1/shop.Zalo/{method}", json=body, headers=headers or AUTH)

    def ask(self, phone: str, **headers: str) -> dict[str, Any]:
        body = {
            "oa_id": DEMO_OA,
            "phone": phone,
            "call_type": "audio",
            "reason_code": "update_order",
        }
        made = self.wire("RequestConsent", body, {**AUTH, **headers})
        assert made.status_code == 200, made.text
        result: dict[str, Any] = made.json()
        return result

    def check(self, phone: str) -> int:
        return int(self.wire("CheckConsent", {"oa_id": DEMO_OA, "phone": phone}).json()["error"])

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_sandbox/{path}", json=body, headers=JSON_CALLS)
        assert response.status_code < 300, response.text
        return response.json()

    def advance(self, duration: str) -> None:
        self.control("POST", "clock", {"advance": duration})

    def coverage(self, shop_id: str | None = SHOP) -> dict[str, Any]:
        params = {"shop_id": shop_id} if shop_id else {}
        response = self.http.get("/_sandbox/coverage", params=params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def reached(self, shop_id: str | None = SHOP) -> dict[str, tuple[int, Any]]:
        """Every item reached: its count and example."""
        return {
            i["id"]: (i["count"], i["example"])
            for i in self.coverage(shop_id)["items"]
            if i["reached"]
        }

    def misuse(self) -> dict[str, tuple[int, Any]]:
        return {m["rule"]: (m["count"], m["example"]) for m in self.coverage()["misuse"]}

    def journal_seq(self, path: str) -> int:
        """The journal number of the newest request to `path`."""
        entries = self.http.get("/_sandbox/journal", params={"path": path}).json()["requests"]
        return int(entries[-1]["seq"])


def settings(**changes: Any) -> Settings:
    return Settings(**{"store": "memory", "clock_start": START, "clock_rate": 0, **changes})


@pytest.fixture(params=STORES)
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandbox]:
    """A served sandbox on each store (the counts are kept as meta values, the outcomes read
    from the stored consents)."""
    app = create_app(settings(store=store_for(request, tmp_path)), SPECS)
    with ThreadedServer(app) as server, Sandbox(server.url) as sandbox:
        yield sandbox


@pytest.fixture
def on_memory() -> Iterator[Sandbox]:
    with ThreadedServer(create_app(settings(), SPECS)) as server, Sandbox(server.url) as sandbox:
        yield sandbox


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store several processes can share: a SQLite file, a PostgreSQL schema."""
    return store_for(request, tmp_path)


def consent(made: dict[str, Any]) -> dict[str, str]:
    return {"consent_id": made["id"]}


def test_the_model_is_the_spec_s_and_the_domain_s(on_memory: Sandbox) -> None:
    report = on_memory.coverage()
    ids = [i["id"] for i in report["items"]]
    assert report["total"] == len(ids) == 39 and report["reached"] == 0
    assert report["percent"] == 0 and report["shops"] == [SHOP] and report["misuse"] == []
    assert [i for i in ids if i.startswith("check.")] == [
        f"check.{code}" for code in (0, 2, 3, 5, 8, 9, 16, 20)
    ]
    assert [i for i in ids if i.startswith("webhook.")] == [
        "webhook.SENT",
        "webhook.EXPIRED",
        "webhook.ALLOW",
        "webhook.DENY",
    ]
    labels = {i["id"]: i["label"] for i in report["items"]}
    assert labels["twirp.unavailable"] == "unavailable (503)"
    assert labels["check.9"] == "CheckConsent 9 (never interacted with the OA)"
    assert labels["consent.failed.-224"] == "failed -224 (oa_quota)"
    assert labels["consent.duplicate"] == "duplicate (8)"


def test_consent_outcomes_are_read_from_the_consents(sandbox: Sandbox) -> None:
    made = {phone: sandbox.ask(phone) for phone in ("0900000001", "0900000002", "0900000006")}
    made |= {phone: sandbox.ask(phone) for phone in ("0900000004", "0900000005", "0900000007")}
    ignored = sandbox.ask("0900000003")
    duplicate = sandbox.ask("0900000003")
    assert duplicate["error_code"] == 8
    sandbox.advance("2h")  # 01 agrees, 02 rejects, 06 agrees and its hour-long agreement ends
    assert "consent.no_response" not in sandbox.reached()
    sandbox.advance("1d")
    reached = sandbox.reached()
    assert reached == {
        "consent.agreed": (2, consent(made["0900000001"])),
        "consent.agreement_expired": (1, consent(made["0900000006"])),
        "consent.rejected": (1, consent(made["0900000002"])),
        "consent.no_response": (1, consent(ignored)),
        "consent.failed.-213": (1, consent(made["0900000004"])),
        "consent.failed.-224": (1, consent(made["0900000005"])),
        "consent.failed.5": (1, consent(made["0900000007"])),
        "consent.duplicate": (1, consent(duplicate)),
    }
    # The second request to 0900000003 while the first waited is misuse too.
    assert sandbox.misuse() == {"ask_while_waiting": (1, consent(duplicate))}


def test_checkconsent_codes_and_paging_are_counted_with_their_journal_entry(
    sandbox: Sandbox,
) -> None:
    assert sandbox.check("0912000001") == 20
    first = sandbox.journal_seq("CheckConsent")
    sandbox.ask("0900000001")
    assert sandbox.check("0900000001") == 2
    assert sandbox.check("0912000001") == 20
    for n in range(5):
        sandbox.ask(f"091200010{n}")
    page = sandbox.wire("ListRequestConsent", {"paging": {"limit": 4}}).json()
    last = sandbox.wire(
        "ListRequestConsent", {"paging": {"limit": 4, "after": page["paging"]["next"]}}
    )
    assert last.json()["paging"]["next"] == ""
    end = sandbox.journal_seq("ListRequestConsent")
    back = {"paging": {"limit": 4, "before": last.json()["paging"]["prev"]}}
    assert sandbox.wire("ListRequestConsent", back).json()["paging"]["prev"] == ""
    reached = sandbox.reached()
    worker = str(reached["check.20"][1]["worker"])
    assert reached["check.20"] == (2, {"journal_seq": first, "worker": worker})
    assert reached["check.2"][0] == 1
    assert reached["paging.end"] == (1, {"journal_seq": end, "worker": worker})
    assert reached["paging.back"] == (1, {"journal_seq": end + 1, "worker": worker})


class Receiver:
    """A webhook target on 127.0.0.1 that acknowledges every event."""

    def __init__(self) -> None:
        got: list[dict[str, Any]] = []

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.got = got
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_webhook_values_count_once_the_receiver_acknowledges_them(sandbox: Sandbox) -> None:
    receiver = Receiver()
    try:
        target = {"shop_id": SHOP, "oa_id": DEMO_OA, "url": receiver.url}
        sandbox.control("PUT", "webhooks", target)
        dup = {"match": {"event": "user_reply_consent"}, "action": {"duplicate": True}}
        sandbox.control("PUT", "faults", {"shop_id": SHOP, "faults": [dup]})
        agreed = sandbox.ask("0900000001")
        ignored = sandbox.ask("0900000003")
        sandbox.advance("2m")
        assert "webhook.SENT" not in sandbox.reached()  # queued is not delivered
        sandbox.control("POST", "webhooks/drain", {})
        sandbox.advance("1d")
        sandbox.control("POST", "webhooks/drain", {})
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    got = [e.get("request_type") or e.get("user_consent") for e in receiver.got]
    assert got == ["SENT", "SENT", "ALLOW", "ALLOW", "EXPIRED"]
    reached = sandbox.reached()
    assert reached["webhook.SENT"] == (2, consent(agreed))
    assert reached["webhook.ALLOW"] == (2, consent(agreed))  # sent twice by the fault
    assert reached["webhook.EXPIRED"] == (1, consent(ignored))
    assert reached["fault.webhook.duplicate"] == (1, consent(agreed))
    assert "webhook.DENY" not in reached


def test_twirp_errors_faults_and_the_misuse_only_requests_show(sandbox: Sandbox) -> None:
    body = {"oa_id": DEMO_OA, "phone": "0912000001"}
    assert sandbox.wire("CheckConsent", {**body, "phone": "12"}).status_code == 400
    raw = sandbox.http.post(
        "/v1/shop.Zalo/CheckConsent", content=b"{", headers={**AUTH, **JSON_CALLS}
    )
    assert raw.status_code == 400 and raw.json()["code"] == "malformed"
    assert sandbox.wire("CheckConsent", {**body, "oa_id": "77"}).status_code == 404
    assert sandbox.wire("CheckConsent", body, PARTNER).status_code == 401  # the partner key
    assert sandbox.wire("CheckConsent", body, {"Authorization": "Bearer nobody"}).status_code == 401
    unauthenticated = sandbox.journal_seq("CheckConsent") - 1
    busy = {"code": "unavailable", "retry_after": "2s"}
    rule = {
        "match": {"operation": "RequestConsent"},
        "action": {"error": busy},
        "when": {"times": 2},
    }
    sandbox.control("POST", "faults", {"shop_id": SHOP, "fault": rule})
    phone = {
        "oa_id": DEMO_OA,
        "phone": "0912000002",
        "call_type": "audio",
        "reason_code": "update_order",
    }
    assert sandbox.wire("RequestConsent", phone).status_code == 503
    assert sandbox.wire("RequestConsent", phone).status_code == 503  # at once: too early
    early = sandbox.journal_seq("RequestConsent")
    sandbox.advance("2s")  # waiting on the virtual clock is waiting
    assert sandbox.wire("RequestConsent", phone).status_code == 200
    for fault in ("drop", "truncate"):
        with pytest.raises(httpx.HTTPError):
            sandbox.wire("ListOA", {}, {**AUTH, "X-Sandbox-Fault": fault})
    lost = sandbox.wire("ListOA", {}, {**AUTH, "X-Sandbox-Fault": "internal; phase=after"})
    assert lost.status_code == 500
    late = sandbox.wire("ListOA", {}, {**AUTH, "X-Sandbox-Delay": "1ms"})
    assert late.status_code == 200
    reached = sandbox.reached()
    twirp = {k: v[0] for k, v in reached.items() if k.startswith("twirp.")}
    assert twirp == {
        "twirp.invalid_argument": 1,
        "twirp.malformed": 1,
        "twirp.not_found": 1,
        "twirp.unauthenticated": 1,  # the unknown key is nobody's
        "twirp.unavailable": 2,
        "twirp.internal": 1,
    }
    faults = {k: v[0] for k, v in reached.items() if k.startswith("fault.")}
    assert faults == {
        "fault.request.error": 3,
        "fault.request.drop": 1,
        "fault.request.truncate": 1,
        "fault.request.after": 2,  # truncate is answered after the operation, as is internal
        "fault.request.delay": 1,
    }
    worker = str(reached["twirp.unauthenticated"][1]["worker"])
    assert sandbox.misuse() == {
        "key_for_other_side": (1, {"journal_seq": unauthenticated, "worker": worker}),
        "early_retry": (1, {"journal_seq": early, "worker": worker}),
    }


def test_asking_while_an_agreement_runs_and_bursts_are_misuse() -> None:
    app = create_app(settings(misuse_burst_requests=2), SPECS)
    with ThreadedServer(app) as server, Sandbox(server.url) as sandbox:
        agreed = sandbox.ask("0912000001")
        sandbox.control("POST", "force", {"consent_id": agreed["id"], "action": "agree"})
        wasted = sandbox.ask("0912000001")  # a charge for nothing
        sandbox.advance("30s")
        burst = sandbox.ask("0912000001")  # the third in a minute (and `wasted` waits)
        sandbox.advance("61s")
        sandbox.ask("0912000001")  # the minute has moved on
        found = sandbox.misuse()
        told = {m["rule"]: (m["why"], m["link"]) for m in sandbox.coverage()["misuse"]}
    assert found == {
        "ask_while_waiting": (2, consent(burst)),
        "ask_while_agreed": (3, consent(wasted)),
        "burst": (1, consent(burst)),
    }
    assert told["ask_while_agreed"] == (
        "asked a phone whose agreement was still valid: a charge for nothing "
        "(CheckConsent answers 0 until it ends)",
        "README.md#misuse-rules",
    )
    assert {link for _, link in told.values()} == {"README.md#misuse-rules"}


def test_reset_forgets_counts_and_the_consents_made_before(sandbox: Sandbox) -> None:
    sandbox.ask("0900000004")
    assert sandbox.check("0900000004") == 9
    assert set(sandbox.reached()) == {"consent.failed.-213", "check.9"}
    other = sandbox.control("POST", "shops", {})["shop_id"]
    cleared = sandbox.control("POST", "coverage/reset", {"shop_id": SHOP})
    assert cleared["reached"] == 0 and cleared["shops"] == [SHOP]
    assert sandbox.check("0900000004") == 9
    assert set(sandbox.reached()) == {"check.9"}
    assert sandbox.reached(other) == {}
    assert sandbox.coverage(None)["shops"] == [SHOP, other]
    sandbox.control("POST", "coverage/reset")  # every shop; JSON without a body
    assert sandbox.reached() == {}
    missing = sandbox.http.get("/_sandbox/coverage", params={"shop_id": "42"})
    assert missing.status_code == 404 and missing.json()["meta"] == {"argument": "shop_id"}


def test_without_counting_only_what_the_consents_show() -> None:
    app = create_app(settings(coverage=False), SPECS)
    with ThreadedServer(app) as server, Sandbox(server.url) as sandbox:
        sandbox.ask("0900000004")
        assert sandbox.check("0900000004") == 9
        assert set(sandbox.reached()) == {"consent.failed.-213"}


ROUNDS = 10


def test_processes_on_one_store_add_up(shared_store: str) -> None:
    first = ThreadedServer(create_app(settings(store=shared_store), SPECS))
    with (
        first,
        ThreadedServer(create_app(settings(store=shared_store), SPECS)) as second,
        Sandbox(first.url) as one,
        Sandbox(second.url) as two,
        ThreadPoolExecutor(2) as pool,
    ):
        assert one.check("0912000001") == 20
        assert two.check("0912000001") == 20
        assert two.reached()["check.20"][0] >= 1  # its own, written before it reads
        # Both write the same count at once, again and again: neither undoes the other's.
        together = threading.Barrier(2)

        def read(sandbox: Sandbox) -> None:
            assert sandbox.check("0912000001") == 20
            together.wait(timeout=10)
            sandbox.coverage()  # writes this process's count first

        for _ in range(ROUNDS):
            list(pool.map(read, (one, two)))
    # Stopping a server writes what it counted: the store has both now.
    third = ThreadedServer(create_app(settings(store=shared_store), SPECS))
    with third, Sandbox(third.url) as three:
        assert three.reached()["check.20"][0] == 2 + 2 * ROUNDS


def test_the_readme_lists_every_item_and_every_misuse_rule(on_memory: Sandbox) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    items = readme.split("### Coverage items", 1)[1].split("### Misuse rules", 1)[0]
    rules = readme.split("### Misuse rules", 1)[1].split("\n## ", 1)[0]
    labels = [i["label"] for i in on_memory.coverage()["items"]]
    assert [label for label in labels if label not in items] == []
    listed = re.findall(r"^\| `(\w+)` \|", rules, re.M)
    spec = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / "openapi" / "sandbox-control.yaml").read_text()
    )
    assert listed == spec["components"]["schemas"]["CoverageMisuse"]["properties"]["rule"]["enum"]
