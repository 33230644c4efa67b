"""Drift sees a server that refuses a limit above the maximum instead of clamping it, and the
new read operations (ListOA, CurrentAccount) are probed like the others."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Scope

from contract_tests.audit import refused_clamp
from contract_tests.drift import run_drift
from contract_tests.options import KitOptions
from contract_tests.session import Kit
from contract_tests.specfacts import facts
from mock_server.serving import ThreadedServer
from tests.contract.broken import Call, Rewriting
from tests.contract.servers import Recorder, sandbox_app


async def refuse_big_limits(scope: Scope, body: bytes, call: Call) -> tuple[int, bytes]:
    try:
        sent: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        sent = None
    paging = sent.get("paging") if isinstance(sent, dict) else None
    limit = paging.get("limit") if isinstance(paging, dict) else None
    if isinstance(limit, int) and limit > facts().max_limit:
        error = {
            "code": "invalid_argument",
            "msg": "paging.limit must be <= 100",
            "meta": {"argument": "paging.limit"},
        }
        return 400, orjson.dumps(error)
    return await call(body)


def drift_against(app: Any) -> tuple[Any, list[str]]:
    recorder = Recorder(app)
    with ThreadedServer(recorder, lifespan="auto") as server:
        kit = Kit(KitOptions(base_url=server.url), read_only=True)
        try:
            report = run_drift(kit)
        finally:
            kit.close()
    return report, [r.path for r in recorder.received]


def test_a_refused_clamp_is_paging_drift() -> None:
    report, _ = drift_against(Rewriting(refuse_big_limits))
    paging = [d for d in report.drifts if d.kind == "paging rules"]
    assert paging, [(d.kind, d.detail) for d in report.drifts]
    assert all("ListRequestConsent" in d.operation for d in paging)
    assert any("was refused with HTTP 400" in d.detail and "101" in d.detail for d in paging)


def test_the_sandbox_does_not_drift_and_its_reads_are_all_probed() -> None:
    report, paths = drift_against(sandbox_app())
    assert report.drifts == [] and report.errors == []
    reads = {op.path for op in facts().operations if not op.writes}
    assert {"/v1/shop.Zalo/ListOA", "/v1/partner.Misc/CurrentAccount"} <= reads
    assert reads <= set(paths), reads - set(paths)
    assert not {op.path for op in facts().operations if op.writes} & set(paths)


def test_a_refusal_naming_another_field_is_no_clamp_drift() -> None:
    """A body with a bad sort and a big limit is refused for its sort: no paging finding."""
    op = facts().by_path("/v1/shop.Zalo/ListRequestConsent")
    assert op is not None
    body = {"paging": {"limit": 2354, "sort": "nope"}}
    about_sort = {"code": "invalid_argument", "msg": "…", "meta": {"argument": "paging.sort"}}
    assert refused_clamp(facts(), op, 400, body, about_sort) == []
    about_limit = {**about_sort, "meta": {"argument": "paging.limit"}}
    assert [f.rule for f in refused_clamp(facts(), op, 400, body, about_limit)] == ["paging-limit"]
    assert [f.rule for f in refused_clamp(facts(), op, 400, body, {})] == ["paging-limit"]


def test_a_refused_limit_beyond_the_schemas_maximum_is_no_clamp_drift() -> None:
    """2147483648 breaks the limit's own int32 `maximum`: refusing it is right, not drift; the
    maximum itself is still a limit to clamp."""
    op = facts().by_path("/v1/shop.Zalo/ListRequestConsent")
    assert op is not None
    about_limit = {"code": "invalid_argument", "msg": "…", "meta": {"argument": "paging.limit"}}
    top = facts().limit_maximum
    assert top == 2**31 - 1
    beyond = {"paging": {"limit": top + 1}}
    assert refused_clamp(facts(), op, 400, beyond, about_limit) == []
    at_top = {"paging": {"limit": top}}
    assert [f.rule for f in refused_clamp(facts(), op, 400, at_top, about_limit)] == [
        "paging-limit"
    ]
