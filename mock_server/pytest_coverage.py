"""The pytest plugin's integration coverage: at the end of a session, what the session's shops
went through together (GET /_sandbox/coverage of each), summed up in the terminal, written as
JSON and JUnit properties on request, and failing the run below a threshold. Under xdist each
worker hands its shops' report to the controller (`workeroutput`), which merges them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server import coverage_report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("etelecom-sandbox")
    group.addoption(
        "--etelecom-coverage",
        action="append",
        default=[],
        metavar="SPEC",
        help="Integration coverage of the session's shops: term (the default, a summary at "
        "the end), json:PATH (also write it as JSON), or no (neither, nor JUnit properties).",
    )
    group.addoption(
        "--etelecom-coverage-fail-under",
        type=float,
        default=None,
        metavar="N",
        help="Fail the run when the session's shops reached less than N %% of the coverage items.",
    )


REPORT = pytest.StashKey[dict[str, Any]]()  # this process's shops, as one report
PARTS = pytest.StashKey[list[dict[str, Any]]]()  # every process's reports (the controller's)
WORKER_KEY = "etelecom_coverage"  # in xdist's workeroutput


def coverage_specs(config: pytest.Config) -> list[str]:
    specs: list[str] = config.getoption("etelecom_coverage") or ["term"]
    for spec in specs:
        if spec not in ("term", "no") and not spec.startswith("json:"):
            raise pytest.UsageError(f"--etelecom-coverage {spec!r}: use term, json:PATH or no")
    return specs


def pytest_configure(config: pytest.Config) -> None:
    coverage_specs(config)
    config.stash[PARTS] = []


def collect(
    config: pytest.Config, url: str, token: str | None, shops: list[tuple[str, str]]
) -> None:
    """The coverage of this process's shops (shop_id, test id), as one report in which each
    misuse names its tests; asked of the sandbox before it stops."""
    if "no" in coverage_specs(config):
        return
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reports = []
    with httpx.Client(timeout=60, headers=headers) as http:
        for shop_id, test in shops:
            response = http.get(f"{url}/_sandbox/coverage", params={"shop_id": shop_id})
            if response.status_code != 200:  # gone with a reset
                continue
            report = response.json()
            for found in report["misuse"]:
                found["tests"] = [test]
            reports.append(report)
    if reports:
        config.stash[REPORT] = coverage_report.merge(reports)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller: a worker is done; keep its shops' coverage."""
    raw = getattr(node, "workeroutput", {}).get(WORKER_KEY)
    if raw:
        node.config.stash[PARTS].append(json.loads(raw))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker hands its report to the controller; the controller (or a run without xdist)
    merges them, writes JSON and JUnit properties, and fails the run below the threshold."""
    config = session.config
    own = config.stash.get(REPORT, None)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        if own is not None:
            workeroutput[WORKER_KEY] = json.dumps(own)
        return
    parts = config.stash[PARTS] + ([own] if own is not None else [])
    if "no" in coverage_specs(config):
        return
    report = coverage_report.merge(parts)
    config.stash[REPORT] = report
    for spec in coverage_specs(config):
        if spec.startswith("json:"):
            path = Path(spec.removeprefix("json:"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    xml = config.stash.get(_junit_key(), None) if _junit_key() else None
    if xml is not None and parts:
        xml.add_global_property("etelecom_coverage_percent", f"{report['percent']:g}")
        xml.add_global_property("etelecom_coverage_reached", str(report["reached"]))
        xml.add_global_property("etelecom_coverage_total", str(report["total"]))
        xml.add_global_property("etelecom_coverage_never", ", ".join(coverage_report.never(report)))
        misuse = ", ".join(f"{m['rule']} ({', '.join(m['tests'])})" for m in report["misuse"])
        xml.add_global_property("etelecom_coverage_misuse", misuse)
    threshold = config.getoption("etelecom_coverage_fail_under")
    below = threshold is not None and report["percent"] < threshold
    if below and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _junit_key() -> Any:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # another pytest: no JUnit properties
        return None
    return xml_key


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(REPORT, None)
    if report is None or "no" in coverage_specs(config) or not report["shops"]:
        return
    terminalreporter.write_sep("=", "etelecom sandbox coverage")
    for line in coverage_report.summary(report):
        terminalreporter.write_line(line)
    threshold = config.getoption("etelecom_coverage_fail_under")
    if threshold is not None:
        verdict = "FAIL" if report["percent"] < threshold else "passed"
        terminalreporter.write_line(
            f"{verdict}: required {threshold:g} % of the coverage items, "
            f"reached {report['percent']:g} %"
        )
