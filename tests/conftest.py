"""Shared fixtures: an in-process sandbox on each store, and a small client for the wire API."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from tests.postgres import emptied, fresh_schema
from tests.specs import SPECS, wire_spec

START = "2026-01-01T00:00:00Z"
ROOT = Path(__file__).resolve().parent.parent
# One folder for what Hypothesis stores (its Unicode tables, seconds to build), shared by this
# run and every kit it starts in a process of its own.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / ".hypothesis"))
# Customers who never see nor answer, and repeated requests allowed: states hold still, so the
# tests of storage, filters and paging see exactly what they created. Lifecycle tests differ.
QUIET: dict[str, Any] = {
    "receive_delay_seconds": (10**7,),
    "p_agree": 0.0,
    "p_reject": 0.0,
    "pending_duplicate": "allow",
}
DEMO = Settings()
DEMO_OA = str(DEMO.demo_oa_ids[0])


def _validator(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    root = {**schema, "components": wire_spec().document["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


# Each wire method's success schema, from the spec, and the Twirp error's.
RESPONSE_SCHEMAS = {op.name: _validator(op.response_schema or {}) for op in wire_spec().operations}
RESPONSE_SCHEMAS["error"] = _validator({"$ref": "#/components/schemas/TwirpError"})


class Api:
    """The wire API as one shop sees it, over HTTP (TestClient, or tests.asgi.AppClient)."""

    def __init__(self, client: httpx.Client, api_key: str, shop_key: str, oa_id: str) -> None:
        self.client = client
        self.api_key = api_key
        self.shop_key = shop_key
        self.oa_id = oa_id

    def call(self, method: str, body: Any, partner: bool = False) -> Any:
        prefix, key = ("partner", self.shop_key) if partner else ("shop", self.api_key)
        response = self.client.post(
            f"/v1/{prefix}.Zalo/{method}", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        # Every answer, success or error, must match the spec's response schema.
        RESPONSE_SCHEMAS[method if response.status_code == 200 else "error"].validate(
            response.json()
        )
        return response

    def request_consent(self, expect: int = 200, **fields: Any) -> dict[str, Any]:
        body = {
            "oa_id": self.oa_id,
            "phone": "0912345678",
            "call_type": "audio",
            "reason_code": "update_order",
            **fields,
        }
        response = self.call("RequestConsent", body)
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    def page(self, expect: int = 200, **body: Any) -> dict[str, Any]:
        response = self.call("ListRequestConsent", body)
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    def walk(self, filter_: dict[str, Any] | None = None, **paging: Any) -> list[str]:
        """Every id, page by page through `next`."""
        ids: list[str] = []
        after = "."
        while True:
            page = self.page(filter=filter_ or {}, paging={**paging, "after": after})
            ids += [c["id"] for c in page["consents"]]
            if not page["paging"]["next"]:
                return ids
            after = page["paging"]["next"]


def move_clock(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/_sandbox/clock", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def new_shop(client: TestClient, **body: Any) -> Api:
    response = client.post("/_sandbox/shops", json=body)
    assert response.status_code == 201, response.text
    shop = response.json()
    return Api(client, shop["api_key"], shop["shop_key"], shop["oa_ids"][0])


STORES = ["memory", "sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """This test process's schema on the test server (skipped without one)."""
    with fresh_schema() as url:
        yield url


@pytest.fixture
def postgres_store(postgres_schema: str) -> str:
    """A store URL on an empty schema of the test server, this test's alone."""
    return emptied(postgres_schema)


def store_for(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The `store` setting of the test's store parameter: each test's own file or schema."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_store"))
    return "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'sandbox.sqlite3'}"


@pytest.fixture(params=STORES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return Settings(store=store_for(request, tmp_path), clock_start=START, clock_rate=0, **QUIET)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, SPECS)) as test_client:
        yield test_client


@pytest.fixture
def refusing_client() -> Iterator[TestClient]:
    """A sandbox on the memory store, for requests refused for their form (route, method,
    Content-Type, body, fields) whatever the store: one store is enough. Requests that are
    accepted run on every store (`client`)."""
    settings = Settings(store="memory", clock_start=START, clock_rate=0, **QUIET)
    with TestClient(create_app(settings, SPECS)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)


@pytest.fixture(params=STORES)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """A sandbox whose customers act: the default settings, a frozen clock."""
    store = store_for(request, tmp_path)
    with TestClient(create_app(Settings(store=store, clock_start=START, clock_rate=0), SPECS)) as c:
        yield c


@pytest.fixture
def shop(live: TestClient) -> Api:
    return Api(live, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)


# Control calls that change state must be JSON, even without a body (the guard of /_sandbox/):
# clients that make such calls without a body send this header by default.
JSON_CALLS = {"Content-Type": "application/json"}


# The longest tests (seconds of CPU each), by node id less parameters, longest first.
LONGEST = (
    "tests/test_readme.py::test_every_shell_block_runs_against_a_sandbox",
    "tests/contract/test_live_safety.py::test_keys_appear_in_no_output_and_no_report",
    "tests/contract/test_kit_runs.py::test_contract_quick_in_process_passes_with_junit_and_a_summary",
    "tests/test_postgres_outage.py::test_a_lost_database_answers_unavailable_and_the_instance_recovers",
    "tests/contract/test_live_safety.py::test_with_permission_live_writes_use_only_the_test_phones",
    "tests/test_pytest_plugin.py::test_plugin_under_xdist",
)
# Modules whose tests share something costly, started once per worker that runs one of them:
# all their tests run on one worker. (xdist's own xdist_group marks name the group by changing
# the node id, which pytest 9.2 no longer reads: they would group nothing.)
ONE_WORKER = (
    "tests/ui/test_inspector_browser.py",  # one Chromium
    "tests/test_workers.py",  # `serve --workers 2` on each store
    "tests/test_instances.py",  # three instances on one database
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first, then the ONE_WORKER modules (long, as a whole), then the other
    slow ones, so that none starts last and keeps one worker busy while the other has nothing
    left to do. Under `--dist load`, dealt like cards:
    each worker starts on its own contiguous share (pytest_xdist_make_scheduler), and so each
    share opens with its part of the longest tests."""

    def rank(item: pytest.Item) -> int:
        name = item.nodeid.split("[")[0]
        if name in LONGEST:
            return LONGEST.index(name)
        if name.split("::")[0] in ONE_WORKER:  # long, as a whole: early, not last
            return len(LONGEST)
        return len(LONGEST) + 1 + (item.get_closest_marker("slow") is None)

    items.sort(key=rank)
    if getattr(config.option, "loadgroup", False):
        return  # ModuleGroups hands out the tests in this order
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    items[:] = [item for share in range(workers) for item in items[share::workers]]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup`: the ONE_WORKER modules each go to one worker, whole; every other test
    on its own, in the order above, to whichever worker runs low. `-n N` (xdist's `load`): work
    stealing, each worker starting on its contiguous share of the tests and a worker out of
    tests taking half of another's queue (`load` would hand the first worker all the longest
    tests in one batch). Any other --dist stays xdist's."""
    dist = config.getvalue("dist")
    if dist == "loadgroup":
        from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

        class ModuleGroups(LoadScopeScheduling):  # type: ignore[misc]
            def __init__(self, config: pytest.Config, log: Any) -> None:
                super().__init__(config, log)
                config.option.loadscopereorder = False  # the order above, not largest first

            def _split_scope(self, nodeid: str) -> str:
                module = nodeid.split("::", 1)[0]
                return module if module in ONE_WORKER else nodeid

        return ModuleGroups(config, log)
    if dist != "load":
        return None
    from xdist.scheduler import WorkStealingScheduling

    return WorkStealingScheduling(config, log)


@pytest.fixture(autouse=True)
def no_event_loop_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that leaves an event loop running in this thread breaks every later test that
    starts one (anyio.run in the kit's in-process gateway). The browser tests hold Playwright's
    loop for their module on purpose; every other test must find none."""
    in_browser_module = request.node.nodeid.startswith("tests/ui/")
    if not in_browser_module:
        assert asyncio._get_running_loop() is None, "an earlier test left an event loop running"
    yield
