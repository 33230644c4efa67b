"""Fault rules: getFaults, putFaults, addFault, deleteFaults, and the decisions the HTTP edge
(for wire requests) and the webhook sender (for deliveries) ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mock_server.domain.clock import Clock
from mock_server.domain.fault_book import FaultBook, RuleState, with_ids
from mock_server.domain.fault_rules import Document
from mock_server.domain.faults import Call, Delivery, DeliveryFault, Fault, FaultPolicy
from mock_server.domain.ports import Store


@dataclass(frozen=True)
class FaultTables:
    global_rules: list[RuleState]
    shops: dict[int, list[RuleState]]


class FaultService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        book: FaultBook,
        file_faults: Sequence[Document] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.book = book
        self.file_faults = file_faults  # a scenario file's faults: the global list at start

    @property
    def policy(self) -> FaultPolicy:
        return self.book.policy

    def start(self) -> None:
        """Set the scenario file's faults, unless the store holds that very list already (a
        restart, or another worker on the same file, keeps its counts)."""
        if self.file_faults is None:
            return
        with self.store.transaction():
            if self.book.documents(None) != with_ids(self.file_faults):
                self.book.set_rules(None, self.file_faults, self.clock.now_ms())

    def get_faults(self) -> FaultTables:
        return FaultTables(*self.book.tables(self.clock.now_ms()))

    def put_faults(self, shop_id: int | None, documents: Sequence[Document]) -> FaultTables:
        with self.store.transaction():
            self.book.set_rules(shop_id, documents, self.clock.now_ms())
        return self.get_faults()

    def add_fault(self, shop_id: int | None, document: Document) -> RuleState:
        with self.store.transaction():
            return self.book.add_rule(shop_id, document, self.clock.now_ms())

    def delete_faults(self, shop_id: int | None) -> FaultTables:
        with self.store.transaction():
            self.book.clear(shop_id)
        return self.get_faults()

    def has_rules(self, shop_id: int) -> bool:
        return self.book.has_rules(shop_id)

    def may_touch_call(self, call: Call) -> bool:
        return self.book.may_touch_call(call)

    def decide_call(self, call: Call) -> Fault | None:
        """What happens to this wire request; None (without a transaction) when no rule
        matches it."""
        if not self.book.may_touch_call(call):
            return None
        with self.store.transaction():
            return self.book.decide_call(call, self.clock.now_ms())

    def decide_delivery(self, delivery: Delivery) -> DeliveryFault | None:
        if not self.book.may_touch_delivery(delivery):
            return None
        with self.store.transaction():
            return self.book.decide_delivery(delivery, self.clock.now_ms())
