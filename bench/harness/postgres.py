"""The PostgreSQL server of a benchmark run: a cluster of the run's own in its temp directory
(scripts/pg_cluster.py, Debian's binaries, fsync on), a fresh schema per sandbox, and the
server's processes, whose CPU is the sandbox's work, not noise."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from harness.process import ROOT

CLUSTER = ROOT / "scripts" / "pg_cluster.py"


def folder(tmp: Path) -> Path:
    """Beside the run's temp directory, not in it: the server runs as the `postgres` user when
    we are root, and must reach its folder."""
    return tmp.with_name(f"{tmp.name}-pg")


def url(tmp: Path) -> str:
    """The run's cluster, started on first use (fsync on: commits cost what they would)."""
    done = subprocess.run(
        [sys.executable, str(CLUSTER), "start", str(folder(tmp)), "--durable"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(done.stderr.strip() or "pg_cluster start failed")
    return done.stdout.strip()


def stop(tmp: Path) -> None:
    """Stop the run's cluster, if it started one, and remove its folder."""
    if (folder(tmp) / "data").exists():
        subprocess.run(
            [sys.executable, str(CLUSTER), "stop", str(folder(tmp))],
            capture_output=True,
            timeout=120,
            check=False,
        )
    shutil.rmtree(folder(tmp), ignore_errors=True)


@contextlib.contextmanager
def schema(tmp: Path) -> Iterator[str]:
    """A store URL on a new schema of the run's cluster, dropped afterwards."""
    import psycopg

    server = url(tmp)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{server}?options={quote(f'-c search_path={name}', safe='')}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def pids(tmp: Path) -> list[int]:
    """The cluster's processes: the postmaster and its children (the sandbox's backends)."""
    try:
        main = int((folder(tmp) / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    found = [main]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == main:
            found.append(int(stat.parent.name))
    return found
