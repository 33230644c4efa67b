"""Webhooks: targets (getWebhooks, putWebhook), the delivery log (getDeliveries), drain
(drainWebhooks), and the sender that POSTs the outbox in order per OA, with retries and backoff.

Events are queued by the domain inside the transaction that changed the consent (see
domain/notices.py); this module only sends them. Every attempt is logged in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from mock_server.domain import notices
from mock_server.domain.errors import NotFound
from mock_server.domain.model import DELIVERED, FAILED, OUTBOX_STATES, Attempt, OutboxEntry
from mock_server.domain.ports import Store
from mock_server.domain.world import World

log = logging.getLogger("etelecom_sandbox.webhooks")
TICK_SECONDS = 0.1


@dataclass(frozen=True)
class DeliveryRules:
    max_attempts: int = 5
    backoff_seconds: float = 1.0  # the first retry's delay; it doubles each time
    timeout_seconds: float = 5.0


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
    ) -> None:
        self.store = store
        self.world = world
        self.rules = rules
        self.wall = wall
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

    async def deliver_due(self, client: httpx.AsyncClient, skip_backoff: bool = False) -> int:
        """One attempt at the oldest pending event of each OA that is due; how many were tried."""
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            return await self._deliver_due(client, skip_backoff)

    async def _deliver_due(self, client: httpx.AsyncClient, skip_backoff: bool) -> int:
        tried = 0
        held: set[tuple[int, int]] = set()  # OAs whose older event is still pending
        for entry in self.store.pending_outbox():
            oa = (entry.shop_id, entry.oa_id)
            if oa in held:
                continue
            held.add(oa)
            if skip_backoff or entry.next_attempt <= self.wall():
                await self._attempt(client, entry)
                tried += 1
        return tried

    async def _attempt(self, client: httpx.AsyncClient, entry: OutboxEntry) -> None:
        status: int | None = None
        error = ""
        try:
            response = await client.post(
                entry.url,
                content=entry.payload,
                headers={"Content-Type": "application/json"},
                timeout=self.rules.timeout_seconds,
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        now = self.wall()
        entry.attempts += 1
        entry.log.append(Attempt(now, status, error))
        if not error:
            entry.state = DELIVERED
        elif entry.attempts >= self.rules.max_attempts:
            entry.state = FAILED
        else:
            entry.next_attempt = now + self.rules.backoff_seconds * 2 ** (entry.attempts - 1)
        self.store.record_attempt(entry)
        self.attempted += 1

    async def drain_webhooks(self) -> dict[str, int]:
        """Deliver everything queued now, retrying without backoff, until nothing is pending."""
        with self.store.transaction():
            self.world.advance()
        async with httpx.AsyncClient() as client:
            while await self.deliver_due(client, skip_backoff=True):
                pass
        counts = self.store.outbox_counts()
        return {state: counts.get(state, 0) for state in OUTBOX_STATES}

    async def run(self) -> None:
        """Background loop of a serving sandbox: move the world on, send what is due."""
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if self.world.due():
                        with self.store.transaction():
                            self.world.advance()
                    await self.deliver_due(client)
                except Exception:  # keep serving; the next tick tries again
                    log.exception("webhook delivery failed")
                await asyncio.sleep(TICK_SECONDS)


@contextlib.asynccontextmanager
async def running(sender: WebhookService) -> AsyncIterator[None]:
    task = asyncio.create_task(sender.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
