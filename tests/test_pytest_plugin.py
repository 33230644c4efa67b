"""The pytest plugin as an integrator's project uses it (pytester), with and without xdist.

The xdist run is a real pytest process (with its workers); the others run pytest in this
process."""

from __future__ import annotations

import pytest

from tests.inline_pytest import fresh_warning_filters

pytest_plugins = ["pytester"]

USER_TESTS = """
import httpx
import pytest

BODY = {"phone": "0900000001", "call_type": "audio", "reason_code": "update_order"}


def create(shop, **fields):
    response = shop.call("RequestConsent", {"oa_id": shop.oa_id, **BODY, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def create_raw(shop, **fields):
    return shop.call("RequestConsent", {"oa_id": shop.oa_id, **BODY, **fields})


def listed(shop, **filter_):
    return shop.call("ListRequestConsent", {"filter": filter_}).json()["consents"]


@pytest.mark.parametrize("n", range(6))
def test_each_test_has_its_own_shop(etelecom_sandbox, n):
    assert listed(etelecom_sandbox) == []
    made = create(etelecom_sandbox, phone=f"091200000{n}")
    assert [c["id"] for c in listed(etelecom_sandbox)] == [made["id"]]


def test_base_urls_work_with_a_plain_http_client(etelecom_sandbox):
    url = etelecom_sandbox.shop_base_url + ".Zalo/ListRequestConsent"
    auth = {"Authorization": "Bearer " + etelecom_sandbox.api_key}
    response = httpx.post(url, json={}, headers=auth)
    assert response.status_code == 200
    partner = etelecom_sandbox.call("ListRequestConsent", {}, partner=True)
    assert partner.status_code == 200


def test_clock_force_and_rules(etelecom_sandbox):
    agreed = create(etelecom_sandbox)  # the magic phone agrees after a minute
    etelecom_sandbox.advance("2m")
    assert listed(etelecom_sandbox, phone="0900000001")[0]["reply_status"] == "P"
    etelecom_sandbox.set_rules([{"phone": "0912345678", "outcome": "ignore"}])
    waiting = create(etelecom_sandbox, phone="0912345678")
    assert etelecom_sandbox.force(waiting["id"], "reject")["reply_status"] == "N"
    assert agreed["id"] != waiting["id"]


def test_webhooks_and_journal(etelecom_sandbox):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import json, threading
    got = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        etelecom_sandbox.set_webhook(f"http://127.0.0.1:{server.server_address[1]}/")
        create(etelecom_sandbox, phone="0900000002")
        etelecom_sandbox.advance("2m")
        etelecom_sandbox.drain_webhooks()
    finally:
        server.shutdown()
    assert [e.get("request_type") or e.get("user_consent") for e in got] == ["SENT", "DENY"]
    mine = etelecom_sandbox.journal(path="RequestConsent")
    assert mine and mine[-1]["request"]["phone"] == "0900000002"


def test_a_shop_that_breaks_every_call_of_its_own(etelecom_sandbox):
    # Never cleared: the other tests, each on its own shop, must not notice.
    broken = {"match": {"operation": "*"}, "action": {"error": {"code": "internal"}}}
    etelecom_sandbox.faults([broken])
    assert etelecom_sandbox.call("ListRequestConsent", {}).status_code == 500


@pytest.mark.parametrize("n", range(3))
def test_faults_are_the_shops_own(etelecom_sandbox, n):
    shop = etelecom_sandbox
    rule = shop.fail_next("ListRequestConsent", "unavailable", times=n + 1, retry_after="1s")
    for _ in range(n + 1):
        failed = shop.call("ListRequestConsent", {})
        assert failed.status_code == 503 and failed.json()["code"] == "unavailable"
        assert failed.headers["Retry-After"] == "1"
        assert failed.headers["X-Sandbox-Fault-Rule"] == rule["id"]
    assert shop.call("ListRequestConsent", {}).status_code == 200
    counts = [(f["id"], f["hits"], f["active"]) for f in shop.faults()]
    assert counts == [(rule["id"], n + 1, False)]
    shop.delay("CheckConsent", "30ms", times=1)
    late = shop.call("CheckConsent", {"oa_id": shop.oa_id, "phone": "0912345678"})
    assert late.status_code == 200 and late.elapsed.total_seconds() >= 0.03
    shop.fail_next("CheckConsent", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        shop.call("CheckConsent", {"oa_id": shop.oa_id, "phone": "0912345678"})
    assert shop.journal(path="CheckConsent")[-1]["fault"]["action"] == "drop"
    shop.fail_next("RequestConsent", "unavailable", phase="after")
    lost = create_raw(shop, phone=f"091300000{n}")
    assert lost.status_code == 503
    assert [c["phone"] for c in listed(shop)] == [f"091300000{n}"]  # it happened all the same
    shop.clear_faults()
    assert shop.faults() == []
"""


@pytest.mark.slow
def test_plugin_in_a_users_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    with fresh_warning_filters():
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=13)


@pytest.mark.slow
def test_plugin_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    with fresh_warning_filters():
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=13)


@pytest.mark.slow
def test_plugin_options_choose_store_and_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_opts="""
def test_store(etelecom_sandbox_server):
    assert etelecom_sandbox_server.settings.store_kind == "sqlite"
    assert etelecom_sandbox_server.settings.seed == 7
"""
    )
    db = pytester.path / "plugin.sqlite3"
    with fresh_warning_filters():
        result = pytester.runpytest_inprocess(
            "-q", "-p", "no:cacheprovider", f"--etelecom-store=sqlite:{db}", "--etelecom-seed=7"
        )
    result.assert_outcomes(passed=1)
    assert db.exists()


@pytest.mark.slow
def test_plugin_works_with_a_control_token(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETELECOM_SANDBOX_CONTROL_TOKEN", "t0ken")
    pytester.makepyfile(
        test_token="""
import httpx

def test_control_and_wire(etelecom_sandbox):
    assert httpx.get(etelecom_sandbox.url + "/_sandbox/health").status_code == 401
    assert etelecom_sandbox.now()
    assert etelecom_sandbox.call("ListRequestConsent", {}).status_code == 200
"""
    )
    with fresh_warning_filters():
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
