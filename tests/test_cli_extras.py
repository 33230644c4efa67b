"""The CLI's version, its one-line answer when an extra is missing, and progress bars that show
on a terminal and stay out of CI logs."""

from __future__ import annotations

import importlib.util
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mock_server import __version__, extras
from mock_server.cli import main, run


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"etelecom-sandbox, version {__version__}"
    assert __version__[0].isdigit()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["fixtures", "generate", "--out", "-"], "datasets"),
        (["contract", "--quick"], "contract"),
        (["drift", "--out", "report"], "contract"),
        (["serve", "--port", "0", "--store", "postgresql://team@127.0.0.1:1/db"], "postgresql"),
    ],
)
def test_a_command_without_its_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], extra: str
) -> None:
    lacking = set(extras.EXTRAS[extra][:1])
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name in lacking else real(name)
    )
    monkeypatch.setattr(sys, "argv", ["etelecom-sandbox", *args])
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("etelecom-sandbox: error: ")
    assert "\n" not in line and f"etelecom-consent-sandbox[{extra}]" in line, line
    assert f"{sorted(lacking)[0]} missing" in line


def test_generate_is_quiet_when_not_on_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "data.jsonl"
    result = CliRunner().invoke(
        main, ["fixtures", "generate", "--consents", "500", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "" and out.stat().st_size > 0


def test_generate_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    """The real command with its stderr on a pseudo-terminal: a bar that reaches 100 %."""
    parent, child = pty.openpty()
    out = tmp_path / "data.jsonl"
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "fixtures",
            "generate",
            "--consents",
            "3000",
            "--out",
            str(out),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=child,
    ) as process:
        os.close(child)
        shown = b""
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    os.close(parent)
    assert process.returncode == 0
    text = shown.decode("utf-8", "replace")
    assert f"writing {out}" in text and "100%" in text, text
