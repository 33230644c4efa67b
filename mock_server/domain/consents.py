"""The wire operations as plain functions of (shop, request, now): no HTTP here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.domain import check, lifecycle, notices, states
from mock_server.domain.behaviour import decide
from mock_server.domain.ids import INT64_MAX, user_id_for
from mock_server.domain.model import Consent, Shop
from mock_server.domain.paging import (
    CursorCodec,
    Page,
    PageRequest,
    effective_limit,
    fetch_page,
    parse_sort,
)
from mock_server.domain.phones import normalize_phone
from mock_server.domain.query import ConsentQuery
from mock_server.domain.scenarios import Scenarios
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.domain.world import World
from mock_server.settings import Settings
from mock_server.spec import Spec
from mock_server.twirp import TwirpError, invalid_argument

DUPLICATE_MESSAGE = "a consent request to this phone is already waiting for an answer"


class ConsentService:
    def __init__(
        self, world: World, scenarios: Scenarios, spec: Spec, settings: Settings,
        codec: CursorCodec,
    ) -> None:  # fmt: skip
        self.world = world
        self.store = world.store
        self.scenarios = scenarios
        self.settings = settings
        self.codec = codec
        self.default_limit = int(spec.extension("PagingRequest", "limit", "x-default-limit"))
        self.max_limit = int(spec.extension("PagingRequest", "limit", "x-max-limit"))
        self.zero_values = {
            name: spec.zero_value(name)
            for name in ("CallType", "ReasonCode", "Status", "ReplyStatus", "DeliveryStatus")
        }
        self.check_messages = {
            int(code): str(text)
            for code, text in spec.extension("CheckConsentCode", None, "x-messages").items()
        }
        if not set(check.CODES) <= set(spec.enum("CheckConsentCode")):
            raise RuntimeError("the spec's CheckConsentCode lacks a code the domain answers")
        _check_settings(settings, spec)

    def request_consent(self, shop: Shop, body: Mapping[str, Any]) -> Consent:
        oa_id = self._own_oa(shop, body["oa_id"])
        phone_norm = normalize_phone(body["phone"])
        with self.store.transaction():
            now = self.world.advance()
            draft = Consent(
                id=0,
                shop_id=shop.shop_id,
                user_id=user_id_for(oa_id, phone_norm),
                oa_id=oa_id,
                phone=body["phone"] if self.settings.phone_echo == "as_sent" else phone_norm,
                phone_norm=phone_norm,
                call_type=body["call_type"],
                reason_code=body["reason_code"],
                status=states.STATUS_SUCCESS,
                reply_status=states.REPLY_WAITING,
                delivery_status=self.zero_values["DeliveryStatus"],
                delivery_time=None,
                is_charged=True,
                error_code=0,
                error_message="",
                expires_at=now + self.settings.reply_window_seconds * 1000,
                created_at=now,
                updated_at=now,
            )
            duplicate = self._waiting(shop.shop_id, oa_id, phone_norm)
            consent = self.store.insert_consent(draft)
            # Randomness per consent, from the seed and its id: reproducible and order-free.
            behaviour = decide(
                self.scenarios.rule_sets(shop.shop_id),
                phone_norm,
                f"{self.settings.seed}:{consent.id}",
                self.settings,
            )
            failure = behaviour.failure
            if failure is None and duplicate:
                failure = (self.settings.duplicate_error_code, DUPLICATE_MESSAGE)
            if failure is not None:
                lifecycle.fail_at_once(consent, failure)
                self.store.update_consent(consent)
            window = self.settings.call_window_seconds * 1000
            self.store.add_events(lifecycle.plan(consent, behaviour, window))
            notices.queue(self.store, lifecycle.sent_notice(consent), self.settings.webhook_app_id)
        return consent

    def _waiting(self, shop_id: int, oa_id: int, phone_norm: str) -> bool:
        if self.settings.pending_duplicate != "fail":
            return False
        return self.store.has_waiting(shop_id, oa_id, phone_norm)

    def list_consents(self, shop: Shop, body: Mapping[str, Any]) -> tuple[Page, PageRequest]:
        paging = body.get("paging") or {}
        request = PageRequest(
            after=paging.get("after") or "",
            before=paging.get("before") or "",
            limit=effective_limit(paging.get("limit"), self.default_limit, self.max_limit),
            sort=paging.get("sort") or self.settings.default_sort,
        )
        query = self.query(shop, body.get("filter") or {}, request.sort)
        with self.store.transaction():
            self.world.advance()
            return fetch_page(self.store.scan, self.codec, query, request), request

    def check_consent(self, shop: Shop, body: Mapping[str, Any]) -> tuple[check.Answer, str]:
        oa_id = self._own_oa(shop, body["oa_id"])
        query = ConsentQuery(shop_id=shop.shop_id, oa_id=oa_id,
                             phone_norm=normalize_phone(body["phone"]))  # fmt: skip
        with self.store.transaction():
            now = self.world.advance()
            answer = check.check(self.store.scan(query, None, False, 50), now)
        return answer, self.check_messages[answer.error]

    def update_shop_oa(self, shop: Shop, body: Mapping[str, Any]) -> int:
        oa_id = self._own_oa(shop, body["oa_id"])
        url = body["webhook_url"] or None
        self.store.set_meta(notices.target_key(shop.shop_id, oa_id), url)
        return 1

    def _own_oa(self, shop: Shop, value: Any) -> int:
        oa_id = to_int64(value, "oa_id")
        if oa_id not in shop.oa_ids:
            raise TwirpError(
                self.settings.foreign_oa_error,
                f"oa_id {oa_id} is not an Official Account of this shop",
                {"argument": "oa_id"},
            )
        return oa_id

    def query(self, shop: Shop, filter_: Mapping[str, Any], sort: str) -> ConsentQuery:
        def enum(name: str, schema: str) -> str | None:
            value = filter_.get(name)
            return None if value in (None, "", self.zero_values[schema]) else str(value)

        sort_field, descending = parse_sort(sort)
        phone = filter_.get("phone")
        date_from, date_to = filter_.get("date_from"), filter_.get("date_to")
        return ConsentQuery(
            shop_id=shop.shop_id,
            sort_field=sort_field,
            descending=descending,
            oa_id=to_int64(filter_.get("oa_id"), "filter.oa_id") or None,
            user_id=to_int64(filter_.get("user_id"), "filter.user_id") or None,
            phone_norm=normalize_phone(phone) if phone else None,
            call_type=enum("call_type", "CallType"),
            reason_code=enum("reason_code", "ReasonCode"),
            status=enum("status", "Status"),
            reply_status=enum("reply_status", "ReplyStatus"),
            is_charged=filter_.get("is_charged"),
            created_from=parse_rfc3339(date_from) if date_from else None,
            created_to=parse_rfc3339(date_to) if date_to else None,
        )


def _check_settings(settings: Settings, spec: Spec) -> None:
    """Settings the spec cannot honour stop the sandbox at start-up."""
    if settings.foreign_oa_error not in spec.enum("TwirpErrorCode"):
        raise ValueError(f"foreign_oa_error {settings.foreign_oa_error!r} is no Twirp code")
    if settings.phone_echo not in ("as_sent", "normalized"):
        raise ValueError(f"phone_echo {settings.phone_echo!r}: use as_sent or normalized")
    if settings.pending_duplicate not in ("fail", "allow"):
        raise ValueError(f"pending_duplicate {settings.pending_duplicate!r}: use fail or allow")
    if settings.default_sort not in spec.enum("SortField") or not settings.default_sort:
        raise ValueError(f"default_sort {settings.default_sort!r} is not a sort the spec has")
    if (
        not 0 <= settings.p_agree + settings.p_reject <= 1
        or min(settings.p_agree, settings.p_reject) < 0
    ):
        raise ValueError("p_agree and p_reject must be chances that add up to at most 1")


def to_int64(value: Any, argument: str) -> int:
    """An int64 as the backend reads it: a decimal string, a number, or null (zero)."""
    if value is None or value == "":
        return 0
    number = int(value)
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise invalid_argument(argument, f"is out of the int64 range (got {value})")
    return number
