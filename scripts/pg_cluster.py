"""A throwaway PostgreSQL cluster for tests, CI and benchmarks: initdb in a folder, a server on a
free 127.0.0.1 port and a unix socket in that folder, and the URL to reach it.

    python scripts/pg_cluster.py start DIR    # prints the URL (postgresql://...); again: no-op
    python scripts/pg_cluster.py stop DIR     # stops the server (the folder stays)
    python scripts/pg_cluster.py url DIR      # prints the URL of a cluster made before

The binaries are Debian's (`/usr/lib/postgresql/*/bin`, newest first) or on PATH. initdb refuses
to run as root: as root, the cluster belongs to the `postgres` user (Debian's package makes it)
and every server command runs as that user through `runuser`. `start` on a folder that has a
cluster starts it again, on the port it had. The server skips fsync: a test cluster keeps what
was committed across a client killed with -9, not across a power cut (`--durable` keeps fsync,
for benchmarks).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "sandbox"
PASSWORD = "sandbox-test-password"
DATABASE = "postgres"
OWNER = "postgres"  # the system user that runs the server when we are root
FAST = ("-c", "fsync=off", "-c", "full_page_writes=off")


class ClusterError(RuntimeError):
    pass


def binaries() -> Path:
    """The folder of initdb and pg_ctl: the newest Debian version, else what PATH has."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ClusterError("no PostgreSQL server binaries (initdb): apt-get install postgresql")


def _as_owner(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:
        raise ClusterError("running as root without runuser: cannot run PostgreSQL as its user")
    return ["runuser", "-u", OWNER, "--", *argv]


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(
        _as_owner(argv), cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode:
        raise ClusterError(f"{Path(argv[0]).name} failed: {(done.stderr or done.stdout).strip()}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def url(folder: Path) -> str:
    port = (folder / "port").read_text().strip()
    return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"


def _init(folder: Path, bin_dir: Path) -> None:
    if os.geteuid() == 0:
        reach = subprocess.run(_as_owner(["test", "-x", str(folder.parent)]), check=False)
        if reach.returncode:
            raise ClusterError(
                f"{folder.parent} is closed to the {OWNER} user, who runs the server: "
                "use a folder it can reach (e.g. under /tmp)"
            )
    data = folder / "data"
    secret = folder / "pwfile"
    secret.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, OWNER)
        shutil.chown(secret, OWNER)
    _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--pwfile",
            str(secret),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        folder,
    )
    secret.unlink()
    (folder / "port").write_text(f"{_free_port()}\n")


def start(folder: Path, durable: bool = False) -> str:
    """Make the cluster if the folder has none, start it, and return its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    bin_dir = binaries()
    if not (folder / "data" / "PG_VERSION").exists():
        _init(folder, bin_dir)
    elif running(folder, bin_dir):
        return url(folder)
    options = [
        "-p",
        (folder / "port").read_text().strip(),
        "-k",
        str(folder),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "max_connections=300",
        *(() if durable else FAST),
    ]
    _run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(folder / "data"),
            "-l",
            str(folder / "server.log"),
            "-o",
            " ".join(options),
            "-w",
            "start",
        ],
        folder,
    )
    return url(folder)


def running(folder: Path, bin_dir: Path) -> bool:
    status = subprocess.run(
        _as_owner([str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "status"]),
        cwd=folder,
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def stop(folder: Path, mode: str = "fast") -> None:
    """Stop the cluster's server (nothing to do when it is not running)."""
    bin_dir = binaries()
    if running(folder, bin_dir):
        argv = [str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", mode, "-w", "stop"]
        _run(argv, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "url"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--durable", action="store_true", help="keep fsync (benchmarks)")
    args = parser.parse_args()
    folder = args.folder.resolve()
    try:
        if args.command == "start":
            print(start(folder, args.durable))
        elif args.command == "stop":
            stop(folder)
        else:
            print(url(folder))
    except (ClusterError, OSError, subprocess.TimeoutExpired) as exc:
        sys.exit(f"pg_cluster: {exc}")


if __name__ == "__main__":
    main()
