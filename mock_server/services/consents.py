"""The wire API's operations, one method each: RequestConsent, ListRequestConsent,
CheckConsent, UpdateShopOA; and forceConsent of the control API. Each owns its transaction and
moves the world to now before it reads or writes."""

from __future__ import annotations

from collections.abc import Hashable

from mock_server.domain import check, lifecycle, notices, states
from mock_server.domain.behaviour import decide
from mock_server.domain.errors import FailedPrecondition, NotFound
from mock_server.domain.model import Consent, ConsentRow, Shop
from mock_server.domain.paging import CursorCodec, Page, PageRequest, fetch_page, page_request
from mock_server.domain.phones import normalize_phone
from mock_server.domain.policy import Policy
from mock_server.domain.ports import Store
from mock_server.domain.query import query_for
from mock_server.domain.requests import (
    CheckRequest,
    ConsentRequest,
    Force,
    ListRequest,
)
from mock_server.domain.scenarios import RuleBook
from mock_server.domain.world import World


class ConsentService:
    def __init__(
        self,
        store: Store,
        world: World,
        rules: RuleBook,
        policy: Policy,
        cursors: CursorCodec,
        check_messages: dict[int, str],
    ) -> None:
        self.store = store
        self.world = world
        self.rules = rules
        self.policy = policy
        self.cursors = cursors
        self.check_messages = check_messages

    def request_consent(self, shop: Shop, request: ConsentRequest) -> Consent:
        shop.oa(request.oa_id)
        policy = self.policy
        with self.store.transaction():
            now = self.world.advance()
            draft = lifecycle.new_consent(shop.shop_id, request, now, policy)
            duplicate = policy.fail_pending_duplicate and self.store.has_waiting(
                shop.shop_id, draft.oa_id, draft.phone_norm
            )
            consent = self.store.insert_consent(draft)
            # Randomness per consent, from the seed and its id: reproducible and order-free.
            behaviour = decide(
                self.rules.rule_sets(shop.shop_id),
                consent.phone_norm,
                f"{policy.seed}:{consent.id}",
                policy.behaviours,
            )
            failure = behaviour.failure
            if failure is None and duplicate:
                failure = (policy.duplicate_error_code, lifecycle.DUPLICATE_MESSAGE)
            if failure is not None:
                lifecycle.fail_at_once(consent, failure)
                self.store.update_consent(consent)
            self.store.add_events(lifecycle.plan(consent, behaviour, policy.call_window_ms))
            notices.queue(self.store, lifecycle.sent_notice(consent), policy.webhook_app_id)
        return consent

    def list_request_consent(
        self, shop: Shop, request: ListRequest, settled: bool = False
    ) -> tuple[Page[ConsentRow], PageRequest]:
        """One page, and the paging it was read with (defaults filled in, limit clamped).
        `settled`: the caller has just brought the world to now (list_version)."""
        paging = page_request(request.paging, self.policy)
        query = query_for(shop.shop_id, request.filter, paging.sort)
        if not settled:
            self.world.settle()
        page = fetch_page(self.store.scan_rows, query.row_key, self.cursors, query, paging)
        return page, paging

    def list_version(self) -> Hashable | None:
        """The world brought to now, then the store's consents_version: two list answers read
        at the same value (not None) are the same answers."""
        self.world.settle()
        return self.store.consents_version()

    def check_consent(self, shop: Shop, request: CheckRequest) -> tuple[check.Answer, str]:
        shop.oa(request.oa_id)
        who = (shop.shop_id, request.oa_id, normalize_phone(request.phone))
        now = self.world.settle()
        store = self.store
        answer = check.check(
            store.longest_agreement(*who),
            store.newest_request(*who, states.STATUS_SUCCESS),
            store.newest_request(*who, states.STATUS_FAILURE),
            now,
        )
        return answer, self.check_messages[answer.error]

    def force_consent(self, force: Force) -> Consent:
        """Make the customer act now. Only a waiting consent can still change."""
        with self.store.transaction():
            now = self.world.advance()
            consent = self.store.get_consent(force.consent_id)
            if consent is None:
                raise NotFound(f"no consent {force.consent_id}", "consent_id")
            event = lifecycle.forced_event(
                force.consent_id, force.action, now, self.policy.call_window_ms
            )
            if not self.world.apply(event, consent, forced=True):
                raise FailedPrecondition(
                    f"consent {force.consent_id} cannot be {force.action}: its reply_status is "
                    f"{consent.reply_status} and its delivery_status {consent.delivery_status}",
                    "action",
                )
            return consent
