"""The figures about dataset files: loading one into each store, and `fixtures generate`.

Both are fixed work timed once (no wrk, no server), so --quick keeps their sizes.
"""

from __future__ import annotations

import gc
import subprocess
import time
from pathlib import Path

from harness import servers
from harness.noise import CpuSample
from harness.process import FAILURES, ROOT, child_env
from mock_server.app import build_services
from mock_server.datasets.generate import DatasetParams, generate_lines
from mock_server.datasets.load import DatasetError, load, read_dataset
from mock_server.settings import Settings
from mock_server.spec import Specs, load_specs
from options import Options
from results import DatasetLoad, Generation, Run

LOAD_SEED, LOAD_SHOPS = 1, 20  # as the load test the test suite used to run
GENERATE_TIMEOUT_S = 1800.0
CONSENT_LINE = b'{"kind":"consent"'  # how every consent record of a dataset file starts


def dataset_load(run: Run, opts: Options, tmp: Path) -> None:
    """Generate one dataset file, then time `read_dataset` (parse and check every record) and
    `load` (shops, consents, planned events) into a memory store and into a SQLite file."""
    params = DatasetParams(seed=LOAD_SEED, shops=LOAD_SHOPS, consents=opts.load_consents)
    print(f"\n[dataset-load] {params.consents:,} consents, {params.shops} shops, on each store")
    specs = load_specs()
    path = tmp / "dataset-load.jsonl"
    started = time.perf_counter()
    try:
        with path.open("wb") as out:
            out.writelines(generate_lines(params, specs.wire))
    except (OSError, ValueError) as exc:
        run.problem("dataset-load", f"cannot generate the dataset: {exc}")
        return
    print(f"  generated {path.name} in {time.perf_counter() - started:.1f} s (not a figure)")
    for store in ("memory", "sqlite"):
        where = "memory" if store == "memory" else f"sqlite:{tmp / 'dataset-load.sqlite3'}"
        # The dataset's consents are as they stand at its `now`: the clock stays there.
        settings = Settings(store=where, clock_start=params.now, clock_rate=0)
        try:
            _load_once(run, store, settings, specs, path, params.consents)
        except (*FAILURES, DatasetError) as exc:
            run.problem(f"dataset-load {store}", exc)
        finally:
            for leftover in tmp.glob("dataset-load.sqlite3*"):
                leftover.unlink()
    path.unlink()


def _load_once(
    run: Run, store: str, settings: Settings, specs: Specs, path: Path, expected: int
) -> None:
    services = build_services(settings, specs)
    try:
        gc.collect()  # the previous store's garbage is not this one's to collect
        before = CpuSample.take()
        started = time.perf_counter()
        data = read_dataset(str(path), specs.wire)
        read = time.perf_counter()
        counts = load(services, data)
        loaded = time.perf_counter()
        other = CpuSample.take().others_since(before)
        held = services.store.count_consents()
    finally:
        services.close()
    if counts.consents != expected or held != expected:
        run.problem(
            f"dataset-load {store}",
            f"loaded {counts.consents} consents and the store holds {held}, not {expected}",
        )
        return
    result = DatasetLoad(
        store=store,
        consents=expected,
        shops=counts.shops_created,
        read_s=round(read - started, 3),
        load_s=round(loaded - read, 3),
        other_cpu=other,
    )
    run.dataset_loads.append(result)
    print(
        f"  {store:<7} read {result.read_s:6.2f} s  load {result.load_s:6.2f} s  "
        f"total {result.total_s:6.2f} s  {result.per_second:>9,.0f} consents/s",
        flush=True,
    )


def fixtures_generate(run: Run, opts: Options, tmp: Path) -> None:
    """`etelecom-sandbox fixtures generate --consents N --out FILE`, from spawn to exit (the
    CLI's start-up included: it is what a user waits for)."""
    count = opts.generate_consents
    print(f"\n[fixtures-generate] etelecom-sandbox fixtures generate --consents {count:,}")
    out = tmp / "fixtures-generate.jsonl"
    argv = [*servers.sandbox_cli(), "fixtures", "generate", "--consents", str(count)]
    argv += ["--out", str(out)]
    try:
        before = CpuSample.take()
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT_S,
            check=False,
        )
        seconds = time.perf_counter() - started
        other = CpuSample.take().others_since(before)
        if done.returncode != 0:
            error = done.stderr.strip().splitlines()[-1:] or ["(no output on stderr)"]
            run.problem("fixtures-generate", f"exit {done.returncode}: {error[0]}")
            return
        with out.open("rb") as written:
            found = sum(1 for line in written if line.startswith(CONSENT_LINE))
        if found != count:
            run.problem("fixtures-generate", f"the file holds {found} consents, not {count}")
            return
        result = Generation(count, round(seconds, 2), out.stat().st_size, other)
    except FAILURES as exc:
        run.problem("fixtures-generate", exc)
        return
    finally:
        out.unlink(missing_ok=True)
    run.generations.append(result)
    print(
        f"  {count:,} consents in {result.seconds:.2f} s, {result.per_second:,.0f} consents/s, "
        f"{result.file_bytes / 1e6:.1f} MB",
        flush=True,
    )
