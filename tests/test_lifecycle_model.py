"""Property test: random creates, clock moves and forced actions, against a simple model.

The model knows only the documented magic phones and the lifecycle rules in a few lines; after
every step, ListRequestConsent and CheckConsent must show exactly the states it predicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mock_server import Settings, create_app
from tests.asgi import AppClient
from tests.conftest import DEMO, DEMO_OA, JSON_CALLS, START, Api
from tests.specs import SPECS

S, MIN, H, D = 1000, 60_000, 3_600_000, 86_400_000
T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
# phone -> (received, seen, reply, answer, window) offsets in ms, or a failure code.
PLANS: dict[str, tuple[int | None, int | None, int | None, str, int] | int] = {
    "84900000001": (5 * S, 30 * S, MIN, "P", 30 * D),
    "84900000002": (5 * S, 30 * S, MIN, "N", 0),
    "84900000003": (5 * S, 30 * S, None, "", 0),
    "84900000004": -213,
    "84900000005": -224,
    "84900000006": (5 * S, 30 * S, MIN, "P", H),
    "84900000007": 5,
    "84900000008": (None, None, None, "", 0),
}
FORMS = ["0{}", "84{}", "+84{}"]


@dataclass
class Model:
    id: str
    phone: str
    created: int
    failure: int | None
    events: list[tuple[int, int, str, str, int]] = field(default_factory=list)

    def state(self, now: int) -> dict[str, Any]:
        """Fold the events due by `now` with the lifecycle's guards."""
        if self.failure is not None:
            return {
                "status": "N",
                "reply_status": "Z",
                "delivery_status": "unknown",
                "delivery_time": None,
                "expires_at": None,
                "updated_at": self.created,
                "error_code": self.failure,
            }
        st_: dict[str, Any] = {
            "status": "P",
            "reply_status": "S",
            "delivery_status": "unknown",
            "delivery_time": None,
            "expires_at": self.created + D,
            "updated_at": self.created,
            "error_code": 0,
        }
        for at, _, kind, value, window in sorted(self.events):
            if at > now:
                break
            waiting = st_["reply_status"] == "S"
            if kind == "received" and waiting and st_["delivery_time"] is None:
                st_.update(delivery_time=at, delivery_status="received", updated_at=at)
            elif kind == "seen" and waiting and st_["delivery_status"] != "seen":
                st_.update(delivery_status="seen", updated_at=at)
                st_["delivery_time"] = st_["delivery_time"] or at
            elif kind == "reply" and waiting and at < st_["expires_at"]:
                st_.update(delivery_status="seen", reply_status=value, updated_at=at)
                st_["delivery_time"] = st_["delivery_time"] or at
                if value == "P":
                    st_["expires_at"] = at + window
            elif kind == "deadline" and waiting:
                st_.update(reply_status="NS", updated_at=at)
        return st_


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    text = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}".rstrip("0") if ms % 1000 else "") + "Z"


class LifecycleMachine(RuleBasedStateMachine):
    """One example: a sandbox back at its fresh start (reset: nothing stored, the demo shop, the
    clock at START), then the steps. The tests share one app between examples."""

    client: ClassVar[httpx.Client]  # the shared app's, set by run_model

    def __init__(self) -> None:
        super().__init__()
        response = self.client.post("/_sandbox/reset", headers=JSON_CALLS)
        assert response.status_code == 200, response.text
        self.api = Api(self.client, DEMO.demo_api_key, DEMO.demo_shop_key, DEMO_OA)
        self.now = T0
        self.seq = 0
        self.consents: list[Model] = []

    def _seq(self) -> int:
        self.seq += 1
        return self.seq

    @rule(phone=st.sampled_from(sorted(PLANS)), form=st.sampled_from(FORMS))
    def create(self, phone: str, form: str) -> None:
        sent = form.format(phone[2:])
        made = self.api.request_consent(phone=sent)
        plan = PLANS[phone]
        waiting = any(
            c.phone == phone and c.state(self.now)["reply_status"] == "S" for c in self.consents
        )
        failure = plan if isinstance(plan, int) else (8 if waiting else None)
        model = Model(made["id"], phone, self.now, failure)
        if failure is None and not isinstance(plan, int):
            received, seen, reply, answer, window = plan
            model.events.append((self.now + D, self._seq(), "deadline", "", 0))
            for kind, offset in (("received", received), ("seen", seen)):
                if offset is not None:
                    model.events.append((self.now + offset, self._seq(), kind, "", 0))
            if reply is not None:
                model.events.append((self.now + reply, self._seq(), "reply", answer, window))
        self.consents.append(model)
        assert made["created_at"] == iso(self.now)

    @rule(step=st.sampled_from([1 * S, 10 * S, 30 * S, MIN, 10 * MIN, H, D, 31 * D]))
    def advance(self, step: int) -> None:
        self.now += step
        response = self.client.post("/_sandbox/clock", json={"advance": f"{step}ms"})
        assert response.json()["now"] == iso(self.now)

    @precondition(lambda self: self.consents)
    @rule(
        data=st.data(),
        action=st.sampled_from(["received", "seen", "agree", "reject", "no_response"]),
    )
    def force(self, data: st.DataObject, action: str) -> None:
        model = data.draw(st.sampled_from(self.consents))
        before = model.state(self.now)
        kind = {"agree": "reply", "reject": "reply", "no_response": "deadline"}.get(action, action)
        value = {"agree": "P", "reject": "N"}.get(action, "")
        model.events.append((self.now, self._seq(), kind, value, 30 * D))
        changed = model.state(self.now) != before
        if model.failure is not None:
            changed = False
        response = self.client.post(
            "/_sandbox/force", json={"consent_id": model.id, "action": action}
        )
        assert response.status_code == (200 if changed else 412), (action, response.text)
        if not changed:
            model.events.pop()

    @invariant()
    def listing_matches_the_model(self) -> None:
        listed = {c["id"]: c for c in self._all()}
        assert list(listed) == [m.id for m in self.consents]
        for model in self.consents:
            want = model.state(self.now)
            got = listed[model.id]
            for key in ("status", "reply_status", "delivery_status", "error_code"):
                assert got[key] == want[key], (key, model, got)
            for key in ("delivery_time", "expires_at", "updated_at"):
                assert got[key] == iso(want[key]), (key, model, got)

    @invariant()
    def check_consent_matches_the_model(self) -> None:
        for phone in {m.phone for m in self.consents}:
            answer = self.api.call("CheckConsent", {"oa_id": DEMO_OA, "phone": phone}).json()
            assert answer["error"] == self._expected_check(phone), (phone, answer)

    def _all(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = "."
        while True:
            page = self.api.page(paging={"after": after, "limit": 7, "sort": "created_at"})
            out += page["consents"]
            if not page["paging"]["next"]:
                return out
            after = page["paging"]["next"]

    def _expected_check(self, phone: str) -> int:
        mine = [m for m in reversed(self.consents) if m.phone == phone]
        sent = [(m, m.state(self.now)) for m in mine if m.failure is None]
        if not sent:
            return {-213: 9, 5: 5}.get(mine[0].failure or 0, 20)
        for _, s in sent:
            if s["reply_status"] == "P" and self.now < s["expires_at"]:
                return 0
        newest = sent[0][1]
        if newest["reply_status"] == "S":
            return 2 if newest["delivery_time"] is None else 8
        return 3 if newest["reply_status"] == "N" else 16


def run_model(store: str, max_examples: int) -> None:
    # One app for every example, on a loop of this thread (tests.asgi.AppClient): neither an app
    # nor TestClient's portal thread per example, nor a thread hop per request (thousands).
    settings = Settings(store=store, clock_start=START, clock_rate=0)
    with AppClient(create_app(settings, SPECS)) as shared:

        class OnTheSharedApp(LifecycleMachine):
            client = shared

        run_state_machine_as_test(
            OnTheSharedApp,
            settings=hsettings(max_examples=max_examples, stateful_step_count=25, deadline=None),
        )


def test_lifecycle_model_memory() -> None:
    run_model("memory", max_examples=40)


def test_lifecycle_model_sqlite(tmp_path: Path) -> None:
    run_model(f"sqlite:{tmp_path / 'model.sqlite3'}", max_examples=20)
