"""pytest.main in this process, set up as a child process would be: its own environment, working
folder, warning filters and output, and a fresh import of the suites it collects.

Tests run the contract kit this way: the kit's suites bind to its options when they are
imported, so each run imports them anew. Everything else they import stays imported: a module
imported twice would give two versions of its classes to code that kept the first. pytester's
in-process runs forget what a run imported first, so what is imported lazily and remembered is
imported here, before any run (httpx imports httpcore at its first request and keeps a map of
httpcore's exceptions: a second httpcore's would then escape as they are).
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import chdir, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import httpcore
import pytest

# Imported before any run (see above); named so that the import is kept.
IMPORTED_FIRST = (httpcore,)
# Modules that a run collects, imported anew by each run.
COLLECTED = ("contract_tests.conftest", "contract_tests.test_")


@dataclass(frozen=True)
class Inline:
    code: int
    out: str
    err: str


@contextmanager
def fresh_warning_filters() -> Iterator[None]:
    """No warning filters in the block, as in a fresh interpreter's pytest run, rather than this
    run's (`error`: an integrator's unclosed socket is not this project's failure)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        yield


@contextmanager
def as_a_child(env: Mapping[str, str], cwd: str | Path) -> Iterator[None]:
    """`env` as os.environ, `cwd` as the working folder and a fresh interpreter's warning filters
    (not this test run's `error`) for the block; afterwards, this process's own again, and the
    collected modules forgotten."""
    saved_env, saved_path = dict(os.environ), list(sys.path)
    os.environ.clear()
    os.environ.update(env)
    try:
        with chdir(cwd), fresh_warning_filters():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n.startswith(COLLECTED)]:
            del sys.modules[name]


def run_pytest(
    args: Sequence[str], cwd: str | Path, env: Mapping[str, str], merge: bool = False
) -> Inline:
    """`pytest args` from `cwd` with environment `env`, in this process; its output (stderr into
    stdout when `merge`, as `2>&1`)."""
    out = io.StringIO()
    err = out if merge else io.StringIO()
    with as_a_child(env, cwd), redirect_stdout(out), redirect_stderr(err):
        code = pytest.main(list(args))
    return Inline(int(code), out.getvalue(), "" if merge else err.getvalue())
