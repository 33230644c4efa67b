"""Integration coverage: the parts of the domain's life a shop's traffic can go through, and the
misuse it can show.

The items are built at start-up from the spec's and the domain's own tables (`coverage_model`),
never listed here by hand: the outcomes of a consent, CheckConsent's codes, each webhook value,
the Twirp errors a client should be ready for, each fault kind, paging to the end and back.
What happens to requests is counted in memory (`Tally`) and written to the store by the
coverage service; what the store keeps anyway (consents) is read back instead (coverage_read.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mock_server.domain import faults

CONSENT, CHECK, WEBHOOK, TWIRP, FAULT, PAGING = (
    "consent",
    "check",
    "webhook",
    "twirp",
    "fault",
    "paging",
)
GROUPS = (CONSENT, CHECK, WEBHOOK, TWIRP, FAULT, PAGING)  # the control spec lists the same

# Item ids that do not come from a table (their labels are said once, here).
AGREED, REJECTED, NO_RESPONSE = "consent.agreed", "consent.rejected", "consent.no_response"
AGREEMENT_EXPIRED, DUPLICATE = "consent.agreement_expired", "consent.duplicate"
FAULT_AFTER = "fault.request.after"
PAGING_END, PAGING_BACK = "paging.end", "paging.back"
MISUSE_PREFIX = "misuse."


def failed(code: int) -> str:
    return f"consent.failed.{code}"


def check_item(code: int) -> str:
    return f"check.{code}"


def webhook_item(value: str) -> str:
    return f"webhook.{value}"


def twirp_item(code: str) -> str:
    return f"twirp.{code}"


def request_fault(kind: str) -> str:
    return f"fault.request.{kind}"


def delivery_fault(kind: str) -> str:
    return f"fault.webhook.{kind}"


@dataclass(frozen=True)
class Item:
    id: str
    group: str
    label: str


@dataclass(frozen=True)
class MisuseRule:
    id: str
    why: str


ASK_WHILE_WAITING = "ask_while_waiting"
ASK_WHILE_AGREED = "ask_while_agreed"
BURST = "burst"
KEY_FOR_OTHER_SIDE = "key_for_other_side"
EARLY_RETRY = "early_retry"
MISUSE_RULES = (
    MisuseRule(
        ASK_WHILE_WAITING,
        "asked again while a request to the same phone was waiting for an answer "
        "(Zalo refuses it; look before asking again)",
    ),
    MisuseRule(
        ASK_WHILE_AGREED,
        "asked a phone whose agreement was still valid: a charge for nothing "
        "(CheckConsent answers 0 until it ends)",
    ),
    MisuseRule(BURST, "more requests to one phone in a short time than a person should get"),
    MisuseRule(
        KEY_FOR_OTHER_SIDE,
        "a shop route called with the partner shop_key, or a partner route with the api_key",
    ),
    MisuseRule(EARLY_RETRY, "retried sooner than the Retry-After the server sent"),
)


def misuse_item(rule: str) -> str:
    return f"{MISUSE_PREFIX}{rule}"


@dataclass(frozen=True)
class Model:
    items: tuple[Item, ...]
    rules: tuple[MisuseRule, ...] = MISUSE_RULES

    def ids(self) -> frozenset[str]:
        return frozenset(item.id for item in self.items)


def coverage_model(
    failures: Mapping[str, tuple[int, str]],
    duplicate_code: int,
    check_messages: Mapping[int, str],
    webhook_values: Mapping[str, tuple[str, Sequence[str]]],
    twirp_statuses: Mapping[str, int],
) -> Model:
    """Every item, in the order reports show them. `failures` is behaviour.FAILURES,
    `check_messages` the codes the sandbox answers with the spec's messages, `webhook_values`
    lifecycle.WEBHOOK_VALUES, `twirp_statuses` the spec's covered Twirp codes with their status."""
    items = [
        Item(AGREED, CONSENT, "agreed"),
        Item(REJECTED, CONSENT, "rejected"),
        Item(NO_RESPONSE, CONSENT, "no response"),
        Item(AGREEMENT_EXPIRED, CONSENT, "agreement expired"),
    ]
    items += [
        Item(failed(code), CONSENT, f"failed {code} ({outcome})")
        for outcome, (code, _) in failures.items()
    ]
    items.append(Item(DUPLICATE, CONSENT, f"duplicate ({duplicate_code})"))
    items += [
        Item(check_item(code), CHECK, f"CheckConsent {code} ({message})")
        for code, message in check_messages.items()
    ]
    items += [
        Item(webhook_item(value), WEBHOOK, f"{value} webhook")
        for _, values in webhook_values.values()
        for value in values
    ]
    items += [
        Item(twirp_item(code), TWIRP, f"{code} ({status})")
        for code, status in twirp_statuses.items()
    ]
    kinds = (faults.ERROR, faults.DELAY, *faults.CONNECTION_FAULTS)
    items += [Item(request_fault(kind), FAULT, f"{kind} fault") for kind in kinds]
    items.append(Item(FAULT_AFTER, FAULT, "fault after the operation"))
    items += [
        Item(delivery_fault(kind), FAULT, f"webhook {kind} fault")
        for kind in faults.DELIVERY_ACTIONS
    ]
    items += [
        Item(PAGING_END, PAGING, "paging to the last page"),
        Item(PAGING_BACK, PAGING, "paging back to the first page"),
    ]
    return Model(tuple(items))


class Example(Protocol):
    """Where to look for an item's example: turned into JSON when the counts are kept."""

    def describe(self) -> dict[str, str | int]: ...


@dataclass(frozen=True)
class ConsentExample:
    consent_id: int

    def describe(self) -> dict[str, str | int]:
        return {"consent_id": str(self.consent_id)}


@dataclass
class Mark:
    """How often an item was reached, and one example."""

    count: int = 0
    example: Example | None = None

    def add(self, count: int, example: Example | None) -> None:
        self.count += count
        if self.example is None:
            self.example = example


Key = tuple[int, str]  # (shop_id, item id)


class Tally:
    """Counts not yet written to the store, in this process. Disabled, it counts nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.pending: dict[Key, Mark] = {}
        self.retries = RetryWatch()  # Retry-After answers sent, for the early_retry rule

    def add(self, shop_id: int, item: str, example: Example | None = None) -> None:
        if not self.enabled:
            return
        mark = self.pending.get((shop_id, item))
        if mark is None:
            self.pending[(shop_id, item)] = Mark(1, example)
        else:
            mark.add(1, example)

    def take(self) -> dict[Key, Mark]:
        """Everything pending, which is then no longer pending."""
        taken, self.pending = self.pending, {}
        return taken

    def restore(self, taken: Mapping[Key, Mark]) -> None:
        """Put back what `take` gave (it could not be written)."""
        for key, mark in taken.items():
            self.pending.setdefault(key, Mark()).add(mark.count, mark.example)

    def forget(self, shop_id: int | None = None) -> None:
        """Drop what is pending (of one shop, or all), and the Retry-After answers sent."""
        self.retries.forget(shop_id)
        if shop_id is None:
            self.pending.clear()
        else:
            self.pending = {k: m for k, m in self.pending.items() if k[0] != shop_id}


class RetryWatch:
    """Retry-After answers sent, by (shop, operation): the next request of that operation from
    that shop is early when it comes sooner than the answer said on the wall clock and on the
    virtual clock alike (a test that waits by moving the virtual clock waits too)."""

    LIMIT = 10_000  # answers remembered at most (the oldest are forgotten first)

    def __init__(self) -> None:
        self._until: dict[tuple[int, str], tuple[float, int]] = {}

    def __bool__(self) -> bool:
        return bool(self._until)

    def sent(self, shop_id: int, operation: str, wait_ms: int, wall: float, now_ms: int) -> None:
        self._until.pop((shop_id, operation), None)
        self._until[(shop_id, operation)] = (wall + wait_ms / 1000, now_ms + wait_ms)
        while len(self._until) > self.LIMIT:
            del self._until[next(iter(self._until))]

    def forget(self, shop_id: int | None = None) -> None:
        if shop_id is None:
            self._until.clear()
        else:
            self._until = {k: v for k, v in self._until.items() if k[0] != shop_id}

    def early(self, shop_id: int, operation: str, wall: float, now_ms: int) -> bool:
        """Whether this request retries too soon (asked once per answer sent)."""
        until = self._until.pop((shop_id, operation), None)
        return until is not None and wall < until[0] and now_ms < until[1]
