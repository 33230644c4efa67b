"""A consent's life changes only CHANGING_FIELDS: the stores rewrite only those on an update
(SQLite then leaves the phone's and the creation order's indexes alone), so a change to any
other field would be lost on SQLite and PostgreSQL and kept on memory."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from mock_server.app import build_services
from mock_server.domain import lifecycle
from mock_server.domain.behaviour import FAILURES, Behaviour
from mock_server.domain.model import CHANGING_FIELDS, CONSENT_FIELDS, as_row
from mock_server.domain.requests import ConsentRequest
from mock_server.settings import Settings

POLICY = build_services(Settings(store="memory")).consents.policy
FIXED = [at for at, name in enumerate(CONSENT_FIELDS) if name not in CHANGING_FIELDS]
offsets = st.none() | st.integers(0, 40 * 86_400_000)


@given(
    outcome=st.sampled_from(["agree", "reject", "no_response", *FAILURES]),
    received=offsets,
    seen=offsets,
    reply=offsets,
    forced=st.lists(st.sampled_from(sorted(lifecycle.FORCED)), max_size=4),
)
def test_a_consent_life_changes_only_the_changing_fields(
    outcome: str, received: int | None, seen: int | None, reply: int | None, forced: list[str]
) -> None:
    request = ConsentRequest(oa_id=7, phone="0912345678", call_type="audio", reason_code="x")
    consent = replace(lifecycle.new_consent(1, request, 1_000, POLICY), id=5)
    made = as_row(consent)
    changed: set[str] = set()

    def check() -> None:
        now = as_row(consent)
        assert [now[at] for at in FIXED] == [made[at] for at in FIXED]
        changed.update(name for at, name in enumerate(CONSENT_FIELDS) if now[at] != made[at])

    behaviour = Behaviour(outcome, received, seen, reply)
    if behaviour.failure is not None:
        lifecycle.fail_at_once(consent, behaviour.failure)
        check()
    for event in lifecycle.plan(consent, behaviour, POLICY.call_window_ms):
        lifecycle.apply(consent, event)
        check()
    for n, action in enumerate(forced):
        lifecycle.apply(consent, lifecycle.forced_event(5, action, 2_000 + n, 60_000))
        check()
    assert changed <= set(CHANGING_FIELDS)
