"""Zalo events for webhooks: payloads as Zalo writes them (3P), queued in the store's outbox."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol

from mock_server.domain.lifecycle import Notice
from mock_server.domain.model import OutboxEntry
from mock_server.domain.ports import MetaStore, OutboxStore

TARGET_PREFIX = "webhook:"


class NoticeStore(MetaStore, OutboxStore, Protocol):
    pass


def target_key(shop_id: int, oa_id: int) -> str:
    return f"{TARGET_PREFIX}{shop_id}:{oa_id}"


def parse_target_key(key: str) -> tuple[int, int]:
    """(shop_id, oa_id) of a target key."""
    shop_id, oa_id = key.removeprefix(TARGET_PREFIX).split(":")
    return int(shop_id), int(oa_id)


def payload(notice: Notice, app_id: str) -> dict[str, object]:
    c = notice.consent
    body: dict[str, object] = {
        "event_name": notice.name,
        "app_id": app_id,
        "oa_id": str(c.oa_id),
        "timestamp": str(notice.at),
        "phone": c.phone_norm,
        **notice.fields,
    }
    expired = c.expires_at if c.expires_at is not None else notice.at
    if notice.name == "oa_send_consent":
        body["create_time"] = c.created_at
        body["expired_time"] = expired
    else:
        body["confirmed_time"] = notice.at
        body["expired_time"] = expired
    return body


def encode(body: dict[str, object]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def queue(store: NoticeStore, notices: Iterable[Notice], app_id: str) -> int:
    """Put each notice whose OA has a webhook target in the outbox (inside the caller's
    transaction, so a state change and its event are kept together or not at all)."""
    entries = []
    for notice in notices:
        c = notice.consent
        url = store.get_meta(target_key(c.shop_id, c.oa_id))
        if url:
            body = encode(payload(notice, app_id))
            entries.append(OutboxEntry(0, c.shop_id, c.oa_id, url, body, consent_id=c.id))
    if entries:
        store.add_outbox(entries)
    return len(entries)
