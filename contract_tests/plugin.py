"""The kit's pytest plugin (entry point `pytest11`): its options, the request cap between tests,
a closing summary, and the rule that keys never leave the run in a report.

It is a plugin rather than a conftest so that `pytest --pyargs contract_tests --etelecom-...`
works from any directory: pytest parses options before it finds a package's conftest. It does
nothing until the kit's suites run, and imports the kit only then.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import pytest

from contract_tests.options import OPTIONS, PROFILES, KitOptions, configure
from contract_tests.redact import Redactor

if TYPE_CHECKING:
    from contract_tests.session import Kit

_redactor = Redactor(())


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("etelecom", "eTelecom contract kit (pytest --pyargs contract_tests)")
    for name, (env, metavar, help_) in OPTIONS.items():
        group.addoption(
            f"--etelecom-{name.replace('_', '-')}",
            dest=f"etelecom_{name}",
            metavar=metavar,
            default=os.environ.get(env, ""),
            choices=PROFILES if name == "profile" else None,
            help=f"{help_} [env {env}]",
        )
    group.addoption(
        "--etelecom-allow-writes",
        dest="etelecom_allow_writes",
        action="store_true",
        default=os.environ.get("ETELECOM_ALLOW_WRITES", "") in ("1", "true", "yes"),
        help="Let a live run send writes (RequestConsent), to --etelecom-test-phone numbers only.",
    )
    group.addoption(
        "--etelecom-test-phone",
        dest="etelecom_test_phone",
        action="append",
        default=[p for p in os.environ.get("ETELECOM_TEST_PHONES", "").split(",") if p.strip()],
        metavar="PHONE",
        help="A phone a live write may use; repeat for more. [env ETELECOM_TEST_PHONES, commas]",
    )
    group.addoption(
        "--etelecom-assume-live",
        dest="etelecom_assume_live",
        action="store_true",
        default=os.environ.get("ETELECOM_ASSUME_LIVE", "") in ("1", "true", "yes"),
        help="Apply the live-mode rules to a local URL too (to rehearse a live run).",
    )


def options_from(config: pytest.Config) -> KitOptions:
    get = config.getoption
    cap = get("etelecom_max_requests")
    try:
        return KitOptions(
            base_url=get("etelecom_base_url").strip(),
            api_key=get("etelecom_api_key").strip(),
            partner_key=get("etelecom_partner_key").strip(),
            oa_id=get("etelecom_oa_id").strip(),
            allow_writes=get("etelecom_allow_writes"),
            test_phones=tuple(p.strip() for p in get("etelecom_test_phone")),
            max_requests=int(cap) if cap else None,
            assume_live=get("etelecom_assume_live"),
            profile=get("etelecom_profile") or "default",
        )
    except ValueError as exc:
        raise pytest.UsageError(f"etelecom contract kit: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    options = options_from(config)
    _redactor.secrets = options.secrets
    configure(options)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = sys.modules.get("contract_tests.session")
    if session is not None:
        session.close()


def pytest_runtest_setup(item: pytest.Item) -> None:
    kit = _kit()
    if kit is not None and _is_kit_item(item) and kit.guard.exhausted:
        pytest.skip(f"request cap reached: {kit.guard.max_requests} requests sent")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # First of all plugins, so the terminal, JUnit XML and xdist see the scrubbed report.
    _redactor.scrub_report(report)


@pytest.hookimpl(tryfirst=True)
def pytest_collectreport(report: pytest.CollectReport) -> None:
    _redactor.scrub_report(report)


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(report: pytest.TestReport | pytest.CollectReport) -> None:
    # schemathesis rewrites a failure's text here, after the report was first scrubbed.
    _redactor.scrub_report(report)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # A last sweep over every report the terminal is about to print.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for reports in getattr(reporter, "stats", {}).values():
        for report in reports:
            if isinstance(report, pytest.TestReport | pytest.CollectReport):
                _redactor.scrub_report(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    kit = _kit()
    if kit is None:
        return
    guard = kit.guard
    cap = f" of at most {guard.max_requests}" if guard.max_requests is not None else ""
    line = (
        f"etelecom contract kit: {kit.options.target}, profile {kit.options.profile}; "
        f"{guard.sent} requests sent{cap}"
    )
    if guard.refused:
        line += f"; {guard.refused} live writes refused"
    if guard.exhausted:
        line += "; stopped at the request cap"
    terminalreporter.write_line(_redactor.scrub(line))


def _kit() -> Kit | None:
    """The run's kit, if the suites built one; the plugin itself never does."""
    session = sys.modules.get("contract_tests.session")
    return None if session is None else session.active()


def _is_kit_item(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return getattr(module, "__name__", "").startswith("contract_tests.")
