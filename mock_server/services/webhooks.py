"""Webhooks: targets (getWebhooks, putWebhook), the delivery log (getDeliveries), drain
(drainWebhooks), and the sender that POSTs the outbox in order per OA, with retries and backoff.

Events are queued by the domain inside the transaction that changed the consent (see
domain/notices.py); this module only sends them. Every attempt is logged in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from mock_server.domain import notices
from mock_server.domain.errors import Unavailable
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

log = logging.getLogger("etelecom_sandbox.webhooks")
TICK_SECONDS = 0.1
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
    ) -> None:
        self.store = store
        self.world = world
        self.rules = rules
        self.wall = wall
        # Who claims outbox entries: one owner per process (and per service in it).
        self.owner = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
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

    def get_deliveries(self, limit: int) -> list[OutboxEntry]:
        return self.store.outbox_log(limit)

    async def deliver_due(
        self, client: httpx.AsyncClient, skip_backoff: bool = False, deadline: float | None = None
    ) -> int:
        """One attempt at the oldest pending event of each OA that is due; how many were tried.
        Attempts end by `deadline` (wall clock) when one is given."""
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            return await self._deliver_due(client, skip_backoff, deadline)

    async def _deliver_due(
        self, client: httpx.AsyncClient, skip_backoff: bool, deadline: float | None
    ) -> int:
        # Claimed in the store: another process serving the same store sends none of these.
        lease = self.rules.timeout_seconds * 2 + LEASE_MARGIN_SECONDS
        entries = self.store.claim_outbox(self.owner, self.wall(), lease, not skip_backoff)
        for entry in entries:
            timeout = self.rules.timeout_seconds
            if deadline is not None:
                timeout = max(MIN_TIMEOUT_SECONDS, min(timeout, deadline - self.wall()))
            await self._attempt(client, entry, timeout)
        return len(entries)

    async def _attempt(self, client: httpx.AsyncClient, entry: OutboxEntry, timeout: float) -> None:
        status: int | None = None
        error = ""
        try:
            response = await client.post(
                entry.url,
                content=entry.payload,
                headers={"Content-Type": "application/json"},
                timeout=timeout,
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as exc:  # any failure to send is a failed attempt, logged, never a 500
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

    async def drain_webhooks(self) -> dict[str, int]:
        """Deliver everything queued now, retrying without backoff, until nothing is pending
        or the drain's time budget is spent (a target that hangs cannot hold a test for long).
        Events another process holds are waited for (it is sending them), within that budget."""
        with self.store.transaction():
            self.world.advance()
        deadline = self.wall() + self.rules.drain_seconds
        async with httpx.AsyncClient() as client:
            while self.wall() < deadline:
                if await self.deliver_due(client, skip_backoff=True, deadline=deadline):
                    continue
                if not self.store.outbox_counts().get(PENDING):
                    break
                await asyncio.sleep(TICK_SECONDS)  # another worker holds the rest
        counts = self.store.outbox_counts()
        return {state: counts.get(state, 0) for state in OUTBOX_STATES}

    async def run(self) -> None:
        """Background loop of a serving sandbox: move the world on, send what is due."""
        lost = False  # the store is unreachable: said once, until it is back
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if self.world.due():
                        with self.store.transaction():
                            self.world.advance()
                    await self.deliver_due(client)
                    if lost:
                        log.warning("the store is back: webhook delivery goes on")
                        lost = False
                except Unavailable as exc:
                    if not lost:
                        log.warning("webhook delivery waits for the store: %s", exc.message)
                        lost = True
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
