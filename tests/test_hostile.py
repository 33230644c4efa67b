"""Hostile input on both APIs and both stores, over real HTTP: no request gets a 5xx (501 for a
method the sandbox does not simulate is an answer, not a failure), and after each one, valid
requests still work. Hypothesis draws extreme and ill-typed bodies and HTTP-level oddities
(contract_tests/hostile.py); schemathesis draws positive and negative data from both specs.
The benchmark sends tens of thousands of the same (bench/measures/hostile.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.hostile import Survey, all_requests, valid_requests
from mock_server import Settings, create_app
from mock_server.serving import ThreadedServer
from tests.conftest import DEMO, DEMO_OA, START, STORES
from tests.postgres import fresh_schema
from tests.specs import SPECS

QUICK = settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
CASES = dict(all_requests(SPECS.wire, SPECS.control, DEMO.demo_api_key, DEMO.demo_shop_key))


@pytest.fixture(scope="module", params=STORES)
def survey(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Survey]:
    where = tmp_path_factory.mktemp("hostile") / "s.sqlite3"
    store = "memory" if request.param == "memory" else f"sqlite:{where}"
    with ExitStack() as stack:
        if request.param == "postgresql":
            store = stack.enter_context(fresh_schema())
        yield from _survey(store)


def _survey(store: str) -> Iterator[Survey]:
    app = create_app(Settings(store=store, clock_start=START, clock_rate=0, drain_seconds=1), SPECS)
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        survey = Survey(http, valid_requests(DEMO.demo_api_key, DEMO_OA))
        yield survey
        survey.check()  # every valid request, once more, after the whole sequence
        assert survey.clean, survey.summary()


@pytest.mark.parametrize("label", list(CASES))
def test_hostile_requests_break_nothing(survey: Survey, label: str) -> None:
    @QUICK
    @given(st.data())
    def sequence(data: st.DataObject) -> None:
        survey.send(data.draw(CASES[label]))
        survey.check(quick=True)

    sequence()
    survey.check()
    assert survey.clean, survey.summary()


def _schema(document: dict[str, Any]) -> Any:
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": 3,
                "database": "none",
                "deterministic": True,
            },
            "phases": {"coverage": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_dict(copy.deepcopy(document), config=config)


WIRE = _schema(SPECS.wire.document)
CONTROL = _schema(SPECS.control.document).exclude(operation_id="reset")


def _keys(path: str) -> dict[str, str]:
    if not path.startswith("/v1/"):
        return {}
    key = DEMO.demo_shop_key if path.startswith("/v1/partner.") else DEMO.demo_api_key
    return {"Authorization": f"Bearer {key}"}


def _survey_case(survey: Survey, case: Any) -> None:
    answer = case.call(base_url=str(survey.http.base_url), headers=_keys(case.path))
    survey.sent += 1
    if answer.status_code >= 500 and answer.status_code != 501:
        survey.server_errors[f"{case.method} {case.path} -> {answer.status_code}"] += 1
    survey.check(quick=True)


@WIRE.parametrize()  # type: ignore[untyped-decorator]
def test_schemathesis_data_on_the_wire_api_breaks_nothing(survey: Survey, case: Any) -> None:
    _survey_case(survey, case)
    assert survey.clean, survey.summary()


@CONTROL.parametrize()  # type: ignore[untyped-decorator]
def test_schemathesis_data_on_the_control_api_breaks_nothing(survey: Survey, case: Any) -> None:
    _survey_case(survey, case)
    assert survey.clean, survey.summary()
