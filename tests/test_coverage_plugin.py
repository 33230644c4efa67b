"""The pytest plugin's integration coverage, as an integrator's suite meets it (pytester): the
session summary, the JSON file, JUnit properties, fail-under and xdist. pytest runs in this
process (the xdist run with its real worker processes)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.inline_pytest import fresh_warning_filters

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

# Four tests that reach six items (agreed, -213, the duplicate, CheckConsent 0, a 503 from a
# fault rule, that fault) and break one rule: asking again while a request waits.
INTEGRATOR_TESTS = """
BODY = {"call_type": "audio", "reason_code": "update_order"}


def ask(shop, phone):
    made = shop.call("RequestConsent", {"oa_id": shop.oa_id, "phone": phone, **BODY})
    assert made.status_code == 200, made.text
    return made.json()


def test_agreement_then_check(etelecom_sandbox):
    shop = etelecom_sandbox
    ask(shop, "0900000001")
    shop.advance("2m")
    check = shop.call("CheckConsent", {"oa_id": shop.oa_id, "phone": "0900000001"})
    assert check.json()["error"] == 0


def test_customer_without_zalo(etelecom_sandbox):
    assert ask(etelecom_sandbox, "0900000004")["error_code"] == -213


def test_list_retries_after_503(etelecom_sandbox):
    shop = etelecom_sandbox
    shop.fail_next("ListRequestConsent", "unavailable")
    assert shop.call("ListRequestConsent", {}).status_code == 503
    assert shop.call("ListRequestConsent", {}).status_code == 200


def test_asks_twice(etelecom_sandbox):
    shop = etelecom_sandbox
    shop.set_rules([{"phone": "0912000001", "outcome": "ignore"}])
    ask(shop, "0912000001")
    assert ask(shop, "0912000001")["error_code"] == 8
"""

NEVER = (
    "rejected, no response, agreement expired, failed -224 (oa_quota), failed 5 (too_many), "
    "CheckConsent 2 (request sent), CheckConsent 3 (rejected), CheckConsent 5 (too many "
    "requests), CheckConsent 8 (waiting for approval), CheckConsent 9 (never interacted with "
    "the OA), CheckConsent 16 (consent expired), CheckConsent 20 (no request ever sent), SENT "
    "webhook, EXPIRED webhook, ALLOW webhook, DENY webhook, invalid_argument (400), malformed "
    "(400), unauthenticated (401), not_found (404), resource_exhausted (429), internal (500), "
    "delay fault, drop fault, hang fault, truncate fault, fault after the operation, webhook "
    "drop fault, webhook duplicate fault, webhook reorder fault, webhook delay fault, paging "
    "to the last page, paging back to the first page"
)
SUMMARY = [
    "reached 6 of 39 outcomes (15.4 %) over 4 shops; never: " + NEVER,
    "misuse ask_while_waiting (1): asked again while a request to the same phone was waiting "
    "for an answer (Zalo refuses it; look before asking again); in "
    "test_user.py::test_asks_twice",
]
REACHED = {
    "consent.agreed": 1,
    "consent.failed.-213": 1,
    "consent.duplicate": 1,
    "check.0": 1,
    "twirp.unavailable": 1,
    "fault.request.error": 1,
}


def summary_of(lines: list[str]) -> list[str]:
    """The lines of the plugin's section of the terminal summary."""
    start = next(n for n, line in enumerate(lines) if "etelecom sandbox coverage" in line)
    return [line for line in lines[start + 1 :] if not line.startswith("=")][: len(SUMMARY)]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    with fresh_warning_filters():
        return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def reached_of(report: dict[str, Any]) -> dict[str, int]:
    return {i["id"]: i["count"] for i in report["items"] if i["reached"]}


def test_the_session_summary_json_and_junit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=INTEGRATOR_TESTS)
    result = run(
        pytester,
        "--etelecom-coverage=json:out/coverage.json",
        "--junitxml=out/junit.xml",
    )
    result.assert_outcomes(passed=4)
    assert summary_of(result.outlines) == SUMMARY
    report = json.loads((pytester.path / "out" / "coverage.json").read_text())
    assert (report["reached"], report["total"], report["percent"]) == (6, 39, 15.4)
    assert len(report["shops"]) == 4 and reached_of(report) == REACHED
    (misuse,) = report["misuse"]
    assert (misuse["rule"], misuse["count"]) == ("ask_while_waiting", 1)
    assert misuse["tests"] == ["test_user.py::test_asks_twice"]
    assert misuse["link"] == "README.md#misuse-rules"
    suite = ET.parse(pytester.path / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["etelecom_coverage_percent"] == "15.4"
    assert properties["etelecom_coverage_reached"] == "6"
    assert properties["etelecom_coverage_total"] == "39"
    assert properties["etelecom_coverage_never"] == NEVER
    assert properties["etelecom_coverage_misuse"] == (
        "ask_while_waiting (test_user.py::test_asks_twice)"
    )


def test_fail_under_fails_the_run_below_the_threshold(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=INTEGRATOR_TESTS)
    below = run(pytester, "--etelecom-coverage-fail-under=20")
    below.assert_outcomes(passed=4)
    assert below.ret == pytest.ExitCode.TESTS_FAILED
    below.stdout.fnmatch_lines(["FAIL: required 20 % of the coverage items, reached 15.4 %"])
    above = run(pytester, "--etelecom-coverage-fail-under=15")
    assert above.ret == pytest.ExitCode.OK
    above.stdout.fnmatch_lines(["passed: required 15 % of the coverage items, reached 15.4 %"])


def test_xdist_workers_shops_are_merged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=INTEGRATOR_TESTS)
    result = run(pytester, "-n", "2", "--etelecom-coverage=json:coverage.json")
    result.assert_outcomes(passed=4)
    assert summary_of(result.outlines) == SUMMARY
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert len(report["shops"]) == 4 and reached_of(report) == REACHED
    assert report["misuse"][0]["tests"] == ["test_user.py::test_asks_twice"]


def test_no_coverage_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=INTEGRATOR_TESTS)
    result = run(pytester, "--etelecom-coverage=no")
    result.assert_outcomes(passed=4)
    assert not any("etelecom sandbox coverage" in line for line in result.outlines)
    wrong = run(pytester, "--etelecom-coverage=xml")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
