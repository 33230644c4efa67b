"""Faults at the wire endpoint: which fault a request gets (a one-off its headers ask for, else
the first fault rule that fires), and its phases around the operation.

- before (the default): a delay, then the fault's answer instead of the operation's; the
  operation does not happen (nor does it when the client gives up during the delay).
- after: the operation happens (and commits); then a delay, and its answer is replaced by the
  fault's error, or lost to a connection fault (http/fault_edge.py).

`X-Sandbox-Fault: <twirp code | drop | hang | truncate>[; phase=after][; retry_after=2s]` and
`X-Sandbox-Delay: <duration>` are honoured when the setting `fault_headers` allows: `loopback`
(requests from this machine), `on` or `off`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.errors import DomainError
from mock_server.domain.fault_rules import duration_ms, one_off
from mock_server.domain.faults import AFTER, DROP, HANG, Call, Fault, FaultPolicy
from mock_server.domain.model import Shop
from mock_server.domain.phones import normalize_phone
from mock_server.hosts import is_loopback
from mock_server.http.fault_edge import FaultContext, Holds, context_of
from mock_server.http.twirp import TwirpError
from mock_server.services.faults import FaultService
from mock_server.spec import Operation

FAULT_HEADER = "X-Sandbox-Fault"
DELAY_HEADER = "X-Sandbox-Delay"
HEADER_MODES = ("loopback", "on", "off")


class FaultGate:
    def __init__(
        self,
        faults: FaultService,
        policy: FaultPolicy,
        headers: str,
        check_duration: Callable[[str, str], None],
    ) -> None:
        if headers not in HEADER_MODES:
            raise ValueError(f"fault_headers {headers!r}: use {', '.join(HEADER_MODES)}")
        self.faults = faults
        self.policy = policy
        self.headers = headers
        self.check_duration = check_duration  # the spec's Duration form, naming the field

    def decide(self, request: Request, operation: Operation, shop: Shop, body: Any) -> Fault | None:
        """The fault this request gets, if any."""
        asked = self._asked(request)
        if asked is not None:
            return asked
        return self.faults.decide_call(self._call(operation, shop, body))

    @staticmethod
    def _call(operation: Operation, shop: Shop, body: Any) -> Call:
        subject = body.get("filter") if isinstance(body.get("filter"), dict) else {}
        oa = body.get("oa_id") or subject.get("oa_id")
        phone = body.get("phone") or subject.get("phone")
        return Call(
            operation=operation.name,
            operation_id=operation.operation_id,
            side="partner" if operation.partner else "shop",
            shop_id=shop.shop_id,
            oa_id=_int_or_none(oa),
            phone=normalize_phone(phone) if isinstance(phone, str) and phone else None,
        )

    def could_touch(self, operation: Operation, shop: Shop, body: Any) -> bool:
        """Cheap, with no effect: whether any fault rule matches this request at all. With no
        rule for its shop or for all (the common case), the request is not looked at."""
        return self.faults.has_rules(shop.shop_id) and self.faults.may_touch_call(
            self._call(operation, shop, body)
        )

    def _asked(self, request: Request) -> Fault | None:
        """A one-off from the request's own headers, when they are honoured."""
        kind = request.headers.get(FAULT_HEADER)
        delay = request.headers.get(DELAY_HEADER)
        if (kind is None and delay is None) or not self._honoured(request):
            return None
        delay_ms = 0
        if delay is not None:
            self.check_duration(delay.strip(), DELAY_HEADER)
            delay_ms = duration_ms(delay.strip(), DELAY_HEADER, self.policy.max_delay_ms)
        if kind is None:
            return Fault(None, delay_ms=delay_ms)
        name, *parts = (part.strip() for part in kind.split(";"))
        options = dict(part.partition("=")[::2] for part in parts if part)
        options = {k.strip().lower(): v.strip() for k, v in options.items()}
        if "retry_after" in options:
            self.check_duration(options["retry_after"], f"{FAULT_HEADER} retry_after")
        return one_off(name.lower(), options, delay_ms, FAULT_HEADER, self.policy)

    def _honoured(self, request: Request) -> bool:
        if self.headers == "loopback":
            return request.client is not None and is_loopback(request.client.host)
        return self.headers == "on"

    async def run(
        self, request: Request, fault: Fault, operation: Callable[[], Awaitable[Response]]
    ) -> Response:
        """The operation, with `fault` around it."""
        context = context_of(request.scope) or FaultContext(request.receive, Holds())
        context.fault = fault
        wait = fault.delay_ms / 1000
        if fault.phase != AFTER:
            if wait and not await context.hold(wait):
                return _unsent()  # the client gave up: nothing happens
            if fault.error is not None:
                raise self._error(fault)
            return _unsent() if fault.outcome in (DROP, HANG) else await operation()
        answer: Response | Exception
        try:
            answer = await operation()
        except (TwirpError, DomainError) as exc:
            answer = exc
        if wait:
            await context.hold(wait)
        if fault.error is not None:
            raise self._error(fault)  # the operation's own answer is lost
        if isinstance(answer, Exception):
            raise answer
        return answer

    @staticmethod
    def _error(fault: Fault) -> TwirpError:
        error = fault.error
        assert error is not None
        who = f"fault rule {fault.rule_id}" if fault.rule_id else f"the {FAULT_HEADER} header"
        headers: Mapping[str, str] = {}
        if error.retry_after_ms is not None:
            headers = {"Retry-After": str(math.ceil(error.retry_after_ms / 1000))}
        return TwirpError(
            error.code, error.msg or f"{error.code} (sandbox: {who})", headers=headers
        )


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _unsent() -> Response:
    """What the endpoint answers when nothing is to be sent (the edge sends none of it)."""
    return Response(status_code=204)
