"""A real headless Chromium for the inspector's tests: Debian's `chromium` driven by Playwright
(its own browser download is never used). Tests skip, with one reason, where either is missing;
`make browser` installs Chromium, and CI runs it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
# Screenshots are test artifacts: kept after the run (CI can upload them), never committed.
ARTIFACTS = Path(os.environ.get("ETELECOM_UI_ARTIFACTS", ROOT / "build" / "ui-artifacts"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright: pip install -e '.[ui]'"
    if chromium_path() is None:
        return "no Chromium: run `make browser` (apt-get install chromium)"
    return None


# Module scope, not session: while Playwright's sync API is open its event loop counts as
# running in this thread, and a later test that starts its own loop (anyio.run) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives the browser a fresh, temporary profile (--user-data-dir).
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=ARGS
        )
        yield chromium
        chromium.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
