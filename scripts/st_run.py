"""Upstream schemathesis (`st run`, all checks, all phases) against a served sandbox, on both
specs: a second opinion on whether the sandbox answers as its specs say.

    python scripts/st_run.py [--examples N]

Serves the sandbox (memory store) on a free port, runs `st run` on the wire spec (shop and
partner routes, with the demo shop's keys) and on the control spec, and exits non-zero if either
finds anything. `unsupported_method` is excluded: a method the spec does not list answers Twirp's
`bad_route` (404), not 405 (see the README's fidelity notes)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")
DEMO_API_KEY = "1000000000000000001:sandbox-demo-api-key"
DEMO_SHOP_KEY = "shop1000000000000000001:sandbox-demo-shop-key"


def runs(url: str, examples: int) -> list[tuple[str, list[str]]]:
    common = [
        "--url",
        url,
        "--checks",
        "all",
        "--exclude-checks",
        "unsupported_method",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(examples),
        "--suppress-health-check",
        "all",
        "--seed",
        "1",
    ]
    wire = str(ROOT / "openapi" / "etelecom-zalo-consent.yaml")
    control = str(ROOT / "openapi" / "sandbox-control.yaml")
    return [
        (
            "wire, shop routes",
            [
                wire,
                *common,
                "-H",
                f"Authorization: Bearer {DEMO_API_KEY}",
                "--include-path-regex",
                r"^/v1/shop\.",
            ],
        ),
        (
            "wire, partner routes",
            [
                wire,
                *common,
                "-H",
                f"Authorization: Bearer {DEMO_SHOP_KEY}",
                "--include-path-regex",
                r"^/v1/partner\.",
            ],
        ),
        ("control", [control, *common, "--exclude-path", "/_sandbox/reset"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation and phase")
    args = parser.parse_args()
    serve = [str(BIN / "etelecom-sandbox"), "serve", "--port", "0", "--store", "memory"]
    with subprocess.Popen(
        serve, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        assert server.stdout is not None
        match = READY.search(server.stdout.readline())
        if match is None:
            print("st_run: the sandbox did not start", file=sys.stderr)
            server.kill()
            return 2
        failed = []
        try:
            for name, arguments in runs(match[1], args.examples):
                print(f"== st run: {name}", flush=True)
                if subprocess.run([str(BIN / "st"), "run", *arguments], check=False).returncode:
                    failed.append(name)
        finally:
            server.terminate()
    print(f"st_run: {'failures in ' + ', '.join(failed) if failed else 'nothing found'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
