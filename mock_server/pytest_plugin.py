"""pytest plugin: `etelecom_sandbox` gives each test its own fresh shop on a shared sandbox.

One sandbox per test session (per xdist worker), served over real HTTP on 127.0.0.1:0 from a
thread. Each test gets a new shop with its own keys and OA, so tests never see each other's
consents and need no reset. The virtual clock is shared by the session: move it forward with
relative steps (`advance`), never assume an absolute time set by another test. Fault rules set
through a shop (`fail_next`, `delay`, `faults`) are that shop's: other tests never see them.

At the end of the session, the integration coverage of the session's shops together (what their
traffic went through, and misuse, by test) is summed up in the terminal, written as JSON and
JUnit properties on request, and may fail the run below a percentage; xdist workers' shops are
merged by the controller.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mock_server import pytest_coverage
from mock_server.app import create_app
from mock_server.serving import ThreadedServer
from mock_server.settings import Settings, settings_from_env

_counter = itertools.count(1)
# The session's integration coverage: its options, summary, JSON, JUnit properties, xdist.
pytest_plugins = ["mock_server.pytest_coverage"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("etelecom-sandbox")
    group.addoption(
        "--etelecom-store",
        default=None,
        help="Store of the session's sandbox: memory (default), sqlite or sqlite:PATH.",
    )
    group.addoption("--etelecom-seed", default=None, type=int, help="The sandbox's seed.")
    group.addoption("--etelecom-scenarios", default=None, help="A scenario rules file.")


@dataclass
class SandboxShop:
    """One test's shop on the session's sandbox, with helpers for the control API."""

    url: str  # the sandbox root, e.g. http://127.0.0.1:PORT
    shop_id: str
    api_key: str
    shop_key: str
    oa_ids: list[str]
    http: httpx.Client = field(repr=False)

    @property
    def shop_base_url(self) -> str:
        """Base URL for shop APIs: `{shop_base_url}.Zalo/RequestConsent`."""
        return f"{self.url}/v1/shop"

    @property
    def partner_base_url(self) -> str:
        return f"{self.url}/v1/partner"

    @property
    def oa_id(self) -> str:
        return self.oa_ids[0]

    def call(self, method: str, body: dict[str, Any], partner: bool = False) -> httpx.Response:
        """POST a wire API method as this shop (shop routes, or partner ones with shop_key)."""
        base, key = (
            (self.partner_base_url, self.shop_key)
            if partner
            else (self.shop_base_url, self.api_key)
        )
        return self.http.post(
            f"{base}.Zalo/{method}", json=body, headers={"Authorization": f"Bearer {key}"}
        )

    def advance(self, duration: str) -> dict[str, Any]:
        """Move the session's clock forward, e.g. "90s", "1h30m", "2d"."""
        return self._control("POST", "/_sandbox/clock", {"advance": duration})

    def now(self) -> str:
        return str(self._control("GET", "/_sandbox/clock")["now"])

    def force(self, consent_id: str, action: str) -> dict[str, Any]:
        """Make the customer act now: received, seen, agree, reject or no_response."""
        return self._control(
            "POST", "/_sandbox/force", {"consent_id": consent_id, "action": action}
        )

    def set_rules(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """Scenario rules for this shop only (tried before the global ones)."""
        return self._control("PUT", "/_sandbox/rules", {"shop_id": self.shop_id, "rules": rules})

    def set_webhook(self, url: str, oa_id: str | None = None) -> dict[str, Any]:
        body = {"shop_id": self.shop_id, "oa_id": oa_id or self.oa_id, "url": url}
        return self._control("PUT", "/_sandbox/webhooks", body)

    def drain_webhooks(self) -> dict[str, Any]:
        """Deliver every queued webhook now; returns when none is left."""
        return self._control("POST", "/_sandbox/webhooks/drain", {})

    def fail_next(
        self,
        operation: str,
        code: str = "unavailable",
        times: int = 1,
        *,
        phase: str = "before",
        msg: str | None = None,
        retry_after: str | None = None,
        probability: float | None = None,
    ) -> dict[str, Any]:
        """Fail this shop's next `times` calls of `operation` ("RequestConsent", or an operationId
        such as "partnerRequestConsent"; "*" for all). `code` is a Twirp code (answered with its
        HTTP status; `retry_after` such as "2s" with resource_exhausted or unavailable), or
        "drop", "hang" or "truncate". With phase="after" the call happens, then its answer is
        lost. Returns the rule, with its id."""
        if code in ("drop", "hang", "truncate"):
            action: dict[str, Any] = {code: True}
        else:
            error = {"code": code, "msg": msg, "retry_after": retry_after}
            action = {"error": {k: v for k, v in error.items() if v is not None}}
        when = {"times": times, "phase": phase, "probability": probability}
        return self._add_fault(operation, action, when)

    def delay(
        self,
        operation: str,
        duration: str | None = None,
        *,
        uniform: tuple[str, str] | None = None,
        lognormal: tuple[str, str] | None = None,
        times: int | None = None,
        phase: str = "before",
    ) -> dict[str, Any]:
        """Delay this shop's calls of `operation` (wall time): by `duration` ("250ms"), by a
        uniform draw (`uniform=("100ms", "2s")`), or a log-normal one (`lognormal=(median,
        p99)`); all of them, or the next `times`. Returns the rule, with its id."""
        shapes = {"fixed": duration, "uniform": uniform, "lognormal": lognormal}
        given = {k: v for k, v in shapes.items() if v is not None}
        if len(given) != 1:
            raise ValueError("give one of duration, uniform=(min, max), lognormal=(median, p99)")
        ((kind, value),) = given.items()
        names = {"uniform": ("min", "max"), "lognormal": ("median", "p99")}.get(kind)
        delay = {kind: dict(zip(names, value, strict=True)) if names else value}
        return self._add_fault(operation, {"delay": delay}, {"times": times, "phase": phase})

    def faults(self, rules: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Replace this shop's fault rules with `rules` (the control API's FaultRule documents),
        or with None just read them; each comes back with its counts (`matched`, `hits`,
        `active`). This shop's rules are tried before the global ones."""
        if rules is None:
            tables = self._control("GET", "/_sandbox/faults")
        else:
            body = {"shop_id": self.shop_id, "faults": rules}
            tables = self._control("PUT", "/_sandbox/faults", body)
        mine: list[dict[str, Any]] = tables["shops"].get(self.shop_id, [])
        return mine

    def clear_faults(self) -> None:
        """Remove this shop's fault rules."""
        self._control("DELETE", "/_sandbox/faults", params={"shop_id": self.shop_id})

    def _add_fault(
        self, operation: str, action: dict[str, Any], when: dict[str, Any]
    ) -> dict[str, Any]:
        rule = {
            "match": {"operation": operation},
            "action": action,
            "when": {k: v for k, v in when.items() if v is not None},
        }
        return self._control("POST", "/_sandbox/faults", {"shop_id": self.shop_id, "fault": rule})

    def journal(self, path: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("path", path), ("limit", limit)) if v is not None}
        response = self.http.get(f"{self.url}/_sandbox/journal", params=params)
        response.raise_for_status()
        requests: list[dict[str, Any]] = response.json()["requests"]
        return requests

    def _control(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        # Every control call that changes state is JSON, even without a body (the guard of
        # /_sandbox/ refuses anything else: a cross-site form cannot send it).
        json_only = {"Content-Type": "application/json"} if body is None and method != "GET" else {}
        response = self.http.request(
            method, f"{self.url}{path}", json=body, params=params, headers=json_only
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result


@dataclass
class SessionSandbox:
    """The session's sandbox: its settings and the real HTTP server that serves it."""

    settings: Settings
    server: ThreadedServer
    shops: list[tuple[str, str]] = field(default_factory=list)  # (shop_id, test id)

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def etelecom_sandbox_server(pytestconfig: pytest.Config) -> Iterator[SessionSandbox]:
    """The session's sandbox; ETELECOM_SANDBOX_* variables apply, then the command line."""
    settings = settings_from_env()
    store = pytestconfig.getoption("etelecom_store") or os.environ.get("ETELECOM_SANDBOX_STORE")
    settings = settings.with_overrides(
        store=store or "memory",
        seed=pytestconfig.getoption("etelecom_seed"),
        scenarios=pytestconfig.getoption("etelecom_scenarios"),
    )
    with ThreadedServer(create_app(settings)) as server:
        sandbox = SessionSandbox(settings, server)
        yield sandbox
        pytest_coverage.collect(pytestconfig, sandbox.url, settings.control_token, sandbox.shops)


@pytest.fixture
def etelecom_sandbox(
    etelecom_sandbox_server: SessionSandbox, request: pytest.FixtureRequest
) -> Iterator[SandboxShop]:
    """A fresh shop of its own for this test, on the session's sandbox."""
    token = etelecom_sandbox_server.settings.control_token
    # Control calls carry the control token when one is set; wire calls set their own key.
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=30, headers=headers) as http:
        # Unique across xdist workers too: each worker has its own sandbox, and the keys
        # carry a random part so tests never guess one another's.
        tag = f"{next(_counter)}-{uuid.uuid4().hex[:12]}"
        created = http.post(
            f"{etelecom_sandbox_server.url}/_sandbox/shops",
            json={"api_key": f"test-{tag}:api", "shop_key": f"shoptest-{tag}:shop"},
        )
        created.raise_for_status()
        shop = created.json()
        etelecom_sandbox_server.shops.append((shop["shop_id"], request.node.nodeid))
        yield SandboxShop(
            etelecom_sandbox_server.url,
            shop["shop_id"],
            shop["api_key"],
            shop["shop_key"],
            shop["oa_ids"],
            http,
        )
