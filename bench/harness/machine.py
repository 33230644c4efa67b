"""What the figures were measured on: the machine, the tools and the commit."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

import uvicorn

from harness.process import ROOT
from harness.servers import PRISM


def describe() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "wrk": tool_version(["wrk", "-v"]),
        "prism": tool_version([str(PRISM), "--version"]) if PRISM.exists() else None,
    }


def tool_version(argv: list[str]) -> str:
    """The first line a tool prints about its version (wrk -v prints it on stdout, exit 1)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable ({exc})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def code_version() -> str:
    """The commit benchmarked (`-dirty` with local changes), if this is a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty", "--exclude", "*"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "not a git checkout"
