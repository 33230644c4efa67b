"""Webhooks: targets (getWebhooks, putWebhook), the delivery log (getDeliveries), drain
(drainWebhooks), and the sender that POSTs the outbox in order per OA, with retries and backoff.

Events are queued by the domain inside the transaction that changed the consent (see
domain/notices.py); this module only sends them, as the fault rules for deliveries allow
(webhook_faults.py). Every attempt is logged in the store, with the fault rule that touched it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import ssl
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_server.domain import coverage, lifecycle, notices
from mock_server.domain.coverage import ConsentExample, Tally
from mock_server.domain.errors import NotFound, Unavailable
from mock_server.domain.faults import DELAY, DROP, DUPLICATE, REORDER, DeliveryFault
from mock_server.domain.model import (
    DELIVERED,
    FAILED,
    OUTBOX_STATES,
    PENDING,
    Attempt,
    OutboxEntry,
)
from mock_server.domain.ports import Store
from mock_server.domain.world import World
from mock_server.services.background import in_background
from mock_server.services.webhook_faults import DeliveryFaults, Hold

if TYPE_CHECKING:  # imported when the first webhook is sent: it is slow to import
    import httpx

log = logging.getLogger("etelecom_sandbox.webhooks")
TICK_SECONDS = 0.1
LOST_PAUSE_SECONDS = 1.0
JSON_HEADERS = {"Content-Type": "application/json"}  # each delivery's
LEASE_MARGIN_SECONDS = 5.0
MIN_TIMEOUT_SECONDS = 0.05


@dataclass(frozen=True)
class DeliveryRules:
    max_attempts: int = 5
    backoff_seconds: float = 1.0  # the first retry's delay; it doubles each time
    timeout_seconds: float = 5.0
    drain_seconds: float = 5.0  # how long one drain may keep trying


@dataclass(frozen=True)
class Target:
    shop_id: int
    oa_id: int
    url: str


class WebhookService:
    def __init__(
        self,
        store: Store,
        world: World,
        rules: DeliveryRules,
        wall: Callable[[], float] = time.time,
        faults: DeliveryFaults | None = None,
        tally: Tally | None = None,
    ) -> None:
        self.store = store
        self.world = world
        self.rules = rules
        self.wall = wall
        self.faults = faults
        self.tally = tally or Tally(enabled=False)  # coverage: webhook values and faults
        # Who claims outbox entries: one owner per process (and per service in it).
        self.owner = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.attempted = 0  # delivery attempts made (the inspector's live updates)
        # The background loop and a drain call must not send the same event at once. One lock
        # per event loop: tests may serve the same sandbox from more than one loop in turn.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def get_webhooks(self) -> list[Target]:
        return [
            Target(*notices.parse_target_key(key), url)
            for key, url in self.store.meta_items(notices.TARGET_PREFIX)
        ]

    def put_webhook(self, shop_id: int, oa_id: int, url: str | None) -> list[Target]:
        self.store.set_meta(notices.target_key(shop_id, oa_id), url or None)
        return self.get_webhooks()

    def get_deliveries(self, limit: int, state: str | None = None) -> list[OutboxEntry]:
        return self.store.outbox_log(limit, state)

    def redeliver_webhook(self, entry_id: int) -> OutboxEntry:
        """Queue an event again: pending, a fresh budget of attempts, its log kept."""
        entry = self.store.requeue_outbox(entry_id)
        if entry is None:
            raise NotFound(f"no webhook event {entry_id}", "id")
        self.attempted += 1
        return entry

    async def deliver_due(
        self, client: Sender, skip_backoff: bool = False, deadline: float | None = None
    ) -> int:
        """One attempt at the oldest pending event of each OA that is due; how many were tried.
        Attempts end by `deadline` (wall clock) when one is given."""
        tried, _ = await self._claim_and_deliver(client, skip_backoff, deadline)
        return tried

    async def _claim_and_deliver(
        self, client: Sender, skip_backoff: bool, deadline: float | None
    ) -> tuple[int, int]:
        """How many attempts were made, and at how many OAs' events (claimed by this process)."""
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            # Claimed in the store: another process serving the same store sends none of these.
            lease = self.rules.timeout_seconds * 2 + LEASE_MARGIN_SECONDS
            entries = self.store.claim_outbox(self.owner, self.wall(), lease, not skip_backoff)
            holds = self.faults.holds() if self.faults else {}
            tried = 0
            for entry in entries:
                timeout = self.rules.timeout_seconds
                if deadline is not None:
                    timeout = max(MIN_TIMEOUT_SECONDS, min(timeout, deadline - self.wall()))
                hold = holds.get(entry.id)
                tried += await self._deliver(client, entry, hold, skip_backoff, timeout)
            return tried, len(entries)

    async def _deliver(
        self,
        client: Sender,
        entry: OutboxEntry,
        hold: Hold | None,
        skip_wall: bool,
        timeout: float,
    ) -> int:
        """One attempt at `entry` as the fault rules have it; how many attempts were made. A
        drain skips wall-clock waits (backoff, wall delays); a virtual delay waits for the clock."""
        fault = None
        if self.faults is not None and hold is None:
            fault = self.faults.decide(entry)
            if fault is not None:
                example = ConsentExample(entry.consent_id)
                self.tally.add(entry.shop_id, coverage.delivery_fault(fault.action), example)
            if fault is not None and fault.action in (DELAY, REORDER):
                hold = self.faults.hold(entry, fault)
        if hold is None or self.faults is None:
            await self._attempt(client, entry, timeout, fault.rule_id if fault else "", fault)
            return 1
        if hold.action == REORDER:
            # The OA's next event goes first, then this one; until there is one, it waits. (No
            # other process sends that one meanwhile: only an OA's oldest event can be claimed.)
            following = next(
                (
                    e
                    for e in self.store.pending_outbox()
                    if (e.shop_id, e.oa_id) == (entry.shop_id, entry.oa_id) and e.id > entry.id
                ),
                None,
            )
            if following is None:
                return 0
            await self._attempt(client, following, timeout)
            self.faults.release(following.id)  # whatever held it, it has gone now
            self.faults.release(entry.id)
            await self._attempt(client, entry, timeout, hold.rule_id)
            return 2
        if not self.faults.over(hold, skip_wall):
            return 0
        self.faults.release(entry.id)
        await self._attempt(client, entry, timeout, hold.rule_id)  # the delay was its fault
        return 1

    async def _attempt(
        self,
        client: Sender,
        entry: OutboxEntry,
        timeout: float,
        rule_id: str = "",
        fault: DeliveryFault | None = None,
    ) -> None:
        if fault is not None and fault.action == DROP:
            self._record(entry, None, f"not sent: dropped by fault rule {rule_id}", rule_id)
            return
        status, error = await self._send(client, entry, timeout)
        self._record(entry, status, error, rule_id)
        if fault is not None and fault.action == DUPLICATE and not error:
            status, error = await self._send(client, entry, timeout)
            self._record(entry, status, error, rule_id, copy=True)

    async def _send(
        self, client: Sender, entry: OutboxEntry, timeout: float
    ) -> tuple[int | None, str]:
        status: int | None = None
        error = ""
        try:
            status = await client.post(entry.url, entry.payload.encode(), timeout)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as exc:  # any failure to send is a failed attempt, logged, never a 500
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return status, error

    def _record(
        self, entry: OutboxEntry, status: int | None, error: str, rule_id: str, copy: bool = False
    ) -> None:
        now = self.wall()
        entry.attempts += 1
        entry.log.append(Attempt(now, status, error, rule_id))
        if not error:
            self._covered(entry)  # the receiver has it (a duplicate's copy too)
        if copy:
            pass  # the second send of a delivered event: its answer changes nothing
        elif not error:
            entry.state = DELIVERED
        elif entry.attempts >= self.rules.max_attempts:
            entry.state = FAILED
        else:
            entry.next_attempt = now + self.rules.backoff_seconds * 2 ** (entry.attempts - 1)
        self.store.record_attempt(entry)
        self.attempted += 1

    def _covered(self, entry: OutboxEntry) -> None:
        """Coverage: the shop's receiver acknowledged this event, with its value."""
        if not self.tally.enabled:
            return
        event = json.loads(entry.payload)
        field, _ = lifecycle.WEBHOOK_VALUES.get(event.get("event_name"), ("", ()))
        value = event.get(field)
        if isinstance(value, str):
            example = ConsentExample(entry.consent_id)
            self.tally.add(entry.shop_id, coverage.webhook_item(value), example)

    async def drain_webhooks(self) -> dict[str, int]:
        """Deliver everything queued now, retrying without backoff, until nothing is pending
        or the drain's time budget is spent (a target that hangs cannot hold a test for long).
        Events another process holds are waited for (it is sending them), within that budget."""
        with self.store.transaction():
            self.world.advance()
        deadline = self.wall() + self.rules.drain_seconds
        async with Sender() as client:
            while self.wall() < deadline:
                tried, claimed = await self._claim_and_deliver(client, True, deadline)
                if tried:
                    continue
                if not self.store.outbox_counts().get(PENDING):
                    break
                if claimed and self._only_virtual_holds(claimed):
                    break  # waiting would change nothing
                await asyncio.sleep(TICK_SECONDS)  # another worker holds the rest
        counts = self.store.outbox_counts()
        return {state: counts.get(state, 0) for state in OUTBOX_STATES}

    def _only_virtual_holds(self, claimed: int) -> bool:
        """Whether every OA's next event is this process's and waits on a frozen clock (held
        by a virtual delay, or for the event it is to follow): no wall time will free one."""
        if self.world.clock.state.rate:
            return False
        pending = self.store.pending_outbox()
        return claimed == len({(e.shop_id, e.oa_id) for e in pending})

    async def run(self) -> None:
        """Background loop of a serving sandbox: move the world on, send what is due."""
        lost = False  # the store is unreachable: said once, until it is back
        async with Sender() as client:
            while True:
                tried = 0
                try:
                    if self.world.due():
                        with self.store.transaction():
                            self.world.advance()
                    tried = await self.deliver_due(client)
                    if lost:
                        log.warning("the store is back: webhook delivery goes on")
                        lost = False
                except Unavailable as exc:
                    if not lost:
                        log.warning("webhook delivery waits for the store: %s", exc.message)
                        lost = True
                except Exception:  # keep serving; the next tick tries again
                    log.exception("webhook delivery failed")
                # A backlog is sent without pause (each OA's events one after another, in
                # order); only a quiet outbox waits for the next tick. While the store is lost
                # each try holds the event loop for the store's timeout, and so every request
                # behind it: it tries again less often.
                await asyncio.sleep(LOST_PAUSE_SECONDS if lost else 0 if tried else TICK_SECONDS)


class Sender:
    """The HTTP client deliveries go through, made at the first one: httpx and the system's
    TLS defaults take a tenth of a second to load, which a sandbox's start need not wait for
    (most never send a webhook). The first delivery pays it instead, once, on the event loop."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    async def post(self, url: str, content: bytes, timeout: float) -> int:
        """POST `content` as JSON; the answer's status (an exception if there is none)."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(verify=_tls_context())
        response = await self._client.post(
            url, content=content, headers=JSON_HEADERS, timeout=timeout
        )
        return response.status_code

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's TLS defaults, loaded once per process: loading the CA bundle takes tens of
    milliseconds, and every app's sender and every drain opens a client."""
    import httpx

    return httpx.create_ssl_context()


def running(sender: WebhookService) -> contextlib.AbstractAsyncContextManager[None]:
    return in_background(sender.run())
