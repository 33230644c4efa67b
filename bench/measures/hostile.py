"""The `hostile` figure: tens of thousands of hostile requests (contract_tests.hostile) sent to a
served sandbox on each store, counting the 5xx answers and the endpoints left broken.

Requests are drawn by Hypothesis, derandomized (the same requests on every run of the same code),
label by label: every operation of both APIs with extreme, ill-typed and oversized bodies, then
HTTP-level oddities. After each request the quick check (a RequestConsent and a list) runs; after
each label, every valid request of the survey. A label whose strategy runs out of new requests
(an operation without a body has 13) leaves its share to the labels after it.

A request whose headers the HTTP client itself refuses to send (h11, under httpx: a header value
ending in a tab) is not sent: it is counted apart, as `refused`, since the server never sees it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import h11
import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contract_tests.hostile import Request, Survey, all_requests, valid_requests
from harness import servers
from harness.noise import CpuSample
from harness.process import FAILURES, Server
from mock_server.settings import Settings
from mock_server.spec import load_specs
from options import Options
from results import HostileRun, Run

DEMO = Settings()
OA = str(DEMO.demo_oa_ids[0])
# Drains try a webhook target that may not answer (a hostile body set it) for this long at most.
SERVER_ENV = {"ETELECOM_SANDBOX_DRAIN_SECONDS": "1"}
TIMEOUT_S = 30.0
SHOWN = 200  # characters of a request body or an answer kept in a report


def hostile(run: Run, opts: Options, tmp: Path) -> None:
    """On each store: `opts.hostile_requests` hostile requests, checked as they go."""
    print(f"\n[hostile] {opts.hostile_requests:,} hostile requests per store, checked after each")
    for store in servers.STORES:
        try:
            with servers.served(store, tmp, SERVER_ENV) as server:
                result = _survey(store, server, opts.hostile_requests)
        except FAILURES as exc:
            run.problem(f"hostile {store}", exc)
            continue
        run.hostile.append(result)
        print(
            f"  {store:<7} {result.sent:,} sent in {result.seconds:.0f} s: "
            f"{result.five_xx} answered 5xx, {len(result.broken)} endpoints broken",
            flush=True,
        )


class Watch:
    """What the survey's client saw last, so a broken endpoint is reported with the check that
    found it, the hostile request sent last before it and the answer it then gave. The quick
    check (after every request) covers the first two endpoints; the others are checked after
    each label, so for them the cause is somewhere in that label's requests."""

    def __init__(self) -> None:
        self.answer: httpx.Response | None = None
        self.request = "(none yet)"
        self.stage = "quick check after that request"  # the check running now
        self.checks = 0
        self.broken: dict[str, str] = {}
        self.refused: dict[str, int] = {}  # why the client would not send a request: how many
        self.refused_examples: dict[str, str] = {}

    def saw(self, response: httpx.Response) -> None:  # an httpx response hook
        self.answer = response

    def sent(self, label: str, request: Request, status: int) -> None:
        self.request = f"{_describe(label, request)} -> {status}"

    def checked(
        self, endpoint: str, works: Callable[[httpx.Client], bool]
    ) -> Callable[[httpx.Client], bool]:
        def check(http: httpx.Client) -> bool:
            self.checks += 1
            self.answer = None
            try:
                ok = works(http)
            except httpx.HTTPError as exc:
                self._first(endpoint, f"{type(exc).__name__}: {exc}")
                raise
            if not ok:
                answer = self.answer
                said = "no answer" if answer is None else f"{answer.status_code} {_text(answer)}"
                self._first(endpoint, said)
            return ok

        return check

    def _first(self, endpoint: str, answer: str) -> None:
        self.broken.setdefault(
            endpoint,
            f"found by the {self.stage}; last hostile request {self.request}; it answered {answer}",
        )


def _describe(label: str, request: Request) -> str:
    path, body = request.path[:SHOWN], request.content[:SHOWN]
    return f"[{label}] {request.method} {path} {request.headers} {body!r}"


def _client_refuses(request: Request) -> str:
    """Why the HTTP client (h11, which httpx sends with) refuses `request`'s headers, or ""."""
    headers = [("Host", "127.0.0.1"), *request.headers.items()]
    try:
        h11.Request(method=request.method, target="/", headers=headers)
    except h11.LocalProtocolError as exc:
        return str(exc)
    return ""


def _text(answer: httpx.Response) -> str:
    try:
        return answer.text[:SHOWN]
    except httpx.ResponseNotRead:
        return "(body not read)"


def _survey(store: str, server: Server, planned: int) -> HostileRun:
    specs = load_specs()
    cases = list(all_requests(specs.wire, specs.control, DEMO.demo_api_key, DEMO.demo_shop_key))
    watch = Watch()
    valid = [
        (name, watch.checked(name, works)) for name, works in valid_requests(DEMO.demo_api_key, OA)
    ]
    hooks = {"response": [watch.saw]}
    by_label: dict[str, int] = {}
    before = CpuSample.take(server.pid)
    started = time.perf_counter()
    with httpx.Client(
        base_url=server.url, timeout=TIMEOUT_S, trust_env=False, event_hooks=hooks
    ) as http:
        survey = Survey(http, valid)
        for index, (label, strategy) in enumerate(cases):
            share = math.ceil((planned - survey.sent) / (len(cases) - index))
            first = survey.sent
            _sequence(survey, watch, label, strategy, share)
            watch.stage = f"full check after the label {label!r} (the cause may be any of it)"
            survey.check()
            watch.stage = "quick check after that request"
            by_label[label] = survey.sent - first
            print(
                f"    {store:<7} {label:<44} {by_label[label]:>6,} sent, "
                f"{sum(survey.server_errors.values())} 5xx, {len(survey.broken)} broken so far",
                flush=True,
            )
    return HostileRun(
        store=store,
        planned=planned,
        sent=survey.sent,
        seconds=round(time.perf_counter() - started, 1),
        sent_by_label=by_label,
        server_errors=dict(survey.server_errors),
        examples=dict(survey.examples),
        broken={name: watch.broken.get(name, "") for name in sorted(survey.broken)},
        checks=watch.checks,
        refused=watch.refused,
        refused_examples=watch.refused_examples,
        other_cpu=CpuSample.take(server.pid).others_since(before),
    )


def _sequence(
    survey: Survey, watch: Watch, label: str, strategy: st.SearchStrategy[Request], count: int
) -> None:
    """`count` requests drawn from `strategy` (fewer when it has no more new ones), each
    followed by the quick check. Hypothesis may draw half as many again, for the requests the
    client refuses to send (a seventh of the HTTP oddities): once `count` are sent, the rest
    are drawn and dropped."""
    if count <= 0:
        return
    first = survey.sent

    @settings(
        max_examples=count + count // 2 + 5,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def sequence(request: Request) -> None:
        if survey.sent - first >= count:
            return
        refused = _client_refuses(request)
        if refused:
            watch.refused[refused] = watch.refused.get(refused, 0) + 1
            watch.refused_examples.setdefault(refused, _describe(label, request))
            return
        watch.sent(label, request, survey.send(request))
        survey.check(quick=True)

    sequence()
