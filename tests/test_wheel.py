"""A wheel built from the repo, installed in a fresh venv, serves the API with its bundled spec.

No network: the wheel is built with this environment's hatchling (no build isolation), installed
without dependencies and without an index, and the venv then sees this environment's packages
(the dependencies) through a .pth file, behind its own site-packages. The source tree is on no
path of the venv, so what answers is the installed wheel.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO
from tests.processes import serving

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, check=False, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_wheel_in_a_fresh_venv_serves_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing may point the venv's interpreter back at a source tree.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert importlib.util.find_spec("hatchling"), "the build backend, hatchling, is in [dev]"
    offline = ["--no-index", "--no-deps", "-q"]
    run(
        sys.executable, "-m", "pip", "wheel", *offline, "--no-build-isolation", "-w", tmp_path, ROOT
    )
    (wheel,) = tmp_path.glob("*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", *offline, wheel)
    # Then, and only then, the dependencies: this environment's site-packages, after the venv's.
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(site) / "test-environment.pth").write_text("\n".join(ours) + "\n")

    elsewhere = tmp_path / "elsewhere"  # no repo checkout around: only the wheel's files
    elsewhere.mkdir()
    code = (
        "import mock_server as m, mock_server.spec as s; print(m.__file__, s.data_dir('openapi'))"
    )
    package, where = run(python, "-c", code, cwd=elsewhere).split()
    assert package.startswith(str(venv)) and where.startswith(str(venv)), (package, where)
    assert (Path(where) / "etelecom-zalo-consent.yaml").is_file()
    assert (Path(where).parent / "fixtures" / "examples" / "index.json").is_file()
    static = Path(where).parent / "http" / "ui" / "static"
    assert {p.name for p in static.iterdir()} >= {"inspector.js", "inspector.css", "favicon.svg"}
    assert (venv / "bin" / "etelecom-sandbox").is_file()

    with serving(["--store", "memory"], python=str(python), cwd=str(elsewhere)) as url:
        response = httpx.post(
            f"{url}/v1/shop.Zalo/RequestConsent",
            json={
                "oa_id": str(DEMO.demo_oa_ids[0]),
                "phone": "0912345678",
                "call_type": "video",
                "reason_code": "update_order",
            },
            headers={"Authorization": f"Bearer {DEMO.demo_api_key}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["reply_status"] == "S"
        bad = httpx.post(
            f"{url}/v1/shop.Zalo/ListRequestConsent",
            json={"filter": {"call_type": "fax"}},
            headers={"Authorization": f"Bearer {DEMO.demo_api_key}"},
        )
        assert bad.json()["meta"] == {"argument": "filter.call_type"}
        # The inspector's assets come from the wheel, not from any CDN.
        script = httpx.get(f"{url}/_sandbox/ui/static/inspector.js")
        assert script.status_code == 200 and "EventSource" in script.text
        page = httpx.get(f"{url}/_sandbox/ui").text
        assert "/_sandbox/ui/static/inspector.js" in page and "https://" not in page
