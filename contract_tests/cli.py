"""`etelecom-sandbox contract` and `etelecom-sandbox drift`.

`contract` runs the suites with pytest in a child process: flags become the plugin's
`--etelecom-*` options, keys travel in the environment (never on a command line), and the child's
output and JUnit XML are scrubbed of them once more before anyone sees them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import click

from contract_tests.redact import Redactor
from mock_server.extras import need_extra

BASE_URL_HELP = (
    "Root URL of the server, e.g. http://127.0.0.1:8080 or https://api.etelecom.vn (the spec's "
    "paths, such as /v1/shop.Zalo/RequestConsent, are appended). Without it: an in-process sandbox."
)


def _target_options(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option("--base-url", envvar="ETELECOM_BASE_URL", default="", help=BASE_URL_HELP),
            click.option("--api-key", envvar="ETELECOM_API_KEY", default="", help="Shop api_key."),
            click.option(
                "--partner-key", envvar="ETELECOM_PARTNER_KEY", default="", help="Shop shop_key."
            ),
            click.option(
                "--oa-id", envvar="ETELECOM_OA_ID", default="", help="An OA the shop owns."
            ),
            click.option(
                "--max-requests",
                type=click.IntRange(min=1),
                default=None,
                help="Stop after this many requests (live default 50).",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command()
@_target_options
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
@click.option("--quick", is_flag=True, help="The pre-commit profile (seconds, not minutes).")
@click.option("--allow-writes", is_flag=True, help="Let a live run send RequestConsent.")
@click.option("--test-phone", multiple=True, help="A phone live writes may use; repeat for more.")
@click.option("--assume-live", is_flag=True, help="Apply the live rules to a local URL too.")
def contract(
    base_url: str,
    api_key: str,
    partner_key: str,
    oa_id: str,
    max_requests: int | None,
    junit: Path | None,
    quick: bool,
    allow_writes: bool,
    test_phone: tuple[str, ...],
    assume_live: bool,
) -> None:
    """Run the contract suites against a sandbox or the live API (exit 1 on failure)."""
    need_extra("contract", "contract")
    from contract_tests.specfacts import facts

    if allow_writes and not test_phone:
        raise click.UsageError("--allow-writes needs at least one --test-phone")
    wrong = [p for p in test_phone if not re.match(facts().phone_pattern, p)]
    if wrong:
        raise click.UsageError(f"--test-phone {', '.join(wrong)}: not a phone the spec accepts")
    args = ["--etelecom-profile", "quick" if quick else "default"]
    for flag, value in (("base-url", base_url), ("oa-id", oa_id), ("max-requests", max_requests)):
        if value:
            args += [f"--etelecom-{flag}", str(value)]
    args += [f"--etelecom-test-phone={phone}" for phone in test_phone]
    args += ["--etelecom-allow-writes"] * allow_writes + ["--etelecom-assume-live"] * assume_live
    redactor = Redactor([k for k in (api_key, partner_key) if k])
    with tempfile.TemporaryDirectory(prefix="etelecom-contract-") as scratch:
        report = junit.resolve() if junit else Path(scratch) / "junit.xml"
        keys = {"api_key": api_key, "partner_key": partner_key}
        code = run_suites(args, report, keys, redactor, cwd=scratch)
        if report.exists():
            report.write_text(redactor.scrub(report.read_text(encoding="utf-8")), encoding="utf-8")
            click.echo(_summary(report, base_url, quick))
    if code not in (0, 1):
        click.echo(f"contract: the run did not complete (pytest exit code {code})", err=True)
    raise SystemExit(0 if code == 0 else 1)


# The pytest plugins the suites need, loaded by name: the child loads no other installed plugin
# (each would slow its start-up, and could add hooks or options the kit does not expect).
KIT_PLUGINS = ("contract_tests.plugin", "schemathesis.pytest.plugin", "_hypothesis_pytestplugin")


def pytest_args(args: list[str], junit: Path) -> list[str]:
    """The child's pytest arguments (after `python -m pytest`)."""
    here = str(Path(__file__).resolve().parent.parent)
    return [
        *(arg for plugin in KIT_PLUGINS for arg in ("-p", plugin)),
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,  # the kit's own settings, not those of the directory it runs in
        f"--rootdir={here}",
        "--pyargs",
        "contract_tests",
        "-q",
        "--no-header",
        "-rfEs",
        f"--junitxml={junit}",
        *args,
    ]


def hypothesis_cache() -> Path:
    """The user's cache folder for what Hypothesis stores (XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "etelecom-sandbox" / "hypothesis"


def child_env(keys: dict[str, str]) -> dict[str, str]:
    """The child's environment: this one, with the keys given (never inherited ones), the kit on
    its path and no plugin autoloading."""
    # The child imports the same kit as this process, wherever it runs from.
    here = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # The child runs in a scratch folder; Hypothesis' Unicode tables (seconds to build) are
    # kept where the next run finds them. The kit keeps no examples database.
    env.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(hypothesis_cache()))
    for name, value in keys.items():
        env.pop(f"ETELECOM_{name.upper()}", None)
        if value:
            env[f"ETELECOM_{name.upper()}"] = value
    return env


def run_suites(
    args: list[str], junit: Path, keys: dict[str, str], redactor: Redactor, cwd: str
) -> int:
    """pytest in a child process, run from a scratch folder (Hypothesis leaves files where it
    runs); its output is echoed line by line, scrubbed. Its exit code."""
    command = [sys.executable, "-m", "pytest", *pytest_args(args, junit)]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(keys),
        cwd=cwd,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            click.echo(redactor.scrub(line), nl=False)
    return child.returncode


def _summary(junit: Path, base_url: str, quick: bool) -> str:
    suites = ET.parse(junit).getroot()
    suite = suites if suites.tag == "testsuite" else suites[0]
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    target = base_url or "an in-process sandbox"
    return (
        f"contract: {passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
        f"{counts['skipped']} skipped in {float(suite.get('time', 0)):.1f} s against {target} "
        f"(profile {'quick' if quick else 'default'})"
    )


@click.command()
@_target_options
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Report folder."
)
def drift(
    base_url: str, api_key: str, partner_key: str, oa_id: str, max_requests: int | None, out: Path
) -> None:
    """Report where a server differs from the spec, with read-only requests (exit 1 on drift)."""
    need_extra("contract", "drift")
    from contract_tests.drift import run_drift
    from contract_tests.drift_report import summary, write_report
    from contract_tests.options import KitOptions
    from contract_tests.session import Kit

    options = KitOptions(
        base_url=base_url.strip(),
        api_key=api_key,
        partner_key=partner_key,
        oa_id=oa_id,
        max_requests=max_requests,
    )
    redactor = Redactor(options.secrets)
    kit = Kit(options, read_only=True)
    try:
        report = run_drift(kit)
    finally:
        kit.close()
    paths = write_report(report, out, redactor)
    found = {kind: n for kind, n in summary(report).items() if n}
    listed = ", ".join(f"{n} {kind}" for kind, n in found.items()) or "none"
    click.echo(
        redactor.scrub(
            f"drift: {sum(found.values())} findings ({listed}) from {report.probes} read-only "
            f"requests to {options.target}; report: {', '.join(map(str, paths))}"
        )
    )
    for error in report.errors:
        click.echo(redactor.scrub(f"drift: no answer: {error}"), err=True)
    raise SystemExit(1 if found or report.errors else 0)
