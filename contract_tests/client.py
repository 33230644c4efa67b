"""Small clients for the kit's own calls: the wire API as one shop sees it, and the sandbox's
control API. Both ride the Gateway's httpx client, so the guard sees every call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from contract_tests.specfacts import SpecFacts


class WireClient:
    def __init__(
        self, http: httpx.Client, facts: SpecFacts, api_key: str, shop_key: str, oa_id: str
    ) -> None:
        self.http = http
        self.facts = facts
        self.api_key = api_key
        self.shop_key = shop_key
        self.oa_id = oa_id

    def for_shop(self, shop: dict[str, Any]) -> WireClient:
        """The same client for another shop (as the control API's createShop returns it)."""
        return WireClient(
            self.http, self.facts, shop["api_key"], shop["shop_key"], shop["oa_ids"][0]
        )

    def post(self, twirp_method: str, body: Any, partner: bool = False) -> httpx.Response:
        op = self.facts.operation(twirp_method, partner)
        key = self.shop_key if partner else self.api_key
        return self.http.post(op.path, json=body, headers={"Authorization": f"Bearer {key}"})

    def call(self, twirp_method: str, body: Any, partner: bool = False) -> Any:
        """The decoded answer; any status but 200 is an error that names the call."""
        response = self.post(twirp_method, body, partner)
        if response.status_code != 200:
            raise AssertionError(
                f"{twirp_method} answered {response.status_code} to {body!r}: {response.text[:300]}"
            )
        return response.json()

    def walk(
        self, body: dict[str, Any], backwards: bool = False, partner: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every page of a listing: from the first along `next`, or from the last along `prev`."""
        paging = dict(body.get("paging") or {})
        paging.pop("after", None)
        paging.pop("before", None)
        cursor_in, cursor_out = ("before", "prev") if backwards else ("after", "next")
        cursor = "."
        while True:
            page = self.call(
                "ListRequestConsent", {**body, "paging": {**paging, cursor_in: cursor}}, partner
            )
            yield page
            cursor = page["paging"][cursor_out]
            if not cursor:
                return


class ControlClient:
    """The sandbox's `/_sandbox/` API (openapi/sandbox-control.yaml)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def available(self) -> bool:
        try:
            response = self.http.get("/_sandbox/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.json().get("status") == "ok"

    def create_shop(self, **body: Any) -> dict[str, Any]:
        return self._call("POST", "/_sandbox/shops", body, expect=201)

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/clock", None)

    def answers_clock(self) -> bool:
        """Whether the target has the sandbox's clock, which suites that move time need."""
        try:
            response = self.http.get("/_sandbox/clock")
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and "now" in _json_object(response)

    def move_clock(self, **body: Any) -> dict[str, Any]:
        return self._call("POST", "/_sandbox/clock", body)

    def force(self, consent_id: str, action: str) -> httpx.Response:
        """The raw answer: a refusal (412) is what some checks expect."""
        return self.http.post("/_sandbox/force", json={"consent_id": consent_id, "action": action})

    def drain_webhooks(self) -> dict[str, Any]:
        return self._call("POST", "/_sandbox/webhooks/drain", {})

    def _call(self, method: str, path: str, body: Any, expect: int = 200) -> dict[str, Any]:
        response = self.http.request(method, path, json=body)
        if response.status_code != expect:
            raise AssertionError(
                f"{method} {path} answered {response.status_code}: {response.text}"
            )
        result: dict[str, Any] = response.json()
        return result


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
