"""Zalo events for webhooks: payloads as Zalo writes them (3P), queued in the store's outbox."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from mock_server.domain.lifecycle import Notice
from mock_server.store.base import OutboxEntry, Store


def target_key(shop_id: int, oa_id: int) -> str:
    return f"webhook:{shop_id}:{oa_id}"


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


def queue(store: Store, notices: Iterable[Notice], app_id: str) -> int:
    """Put each notice whose OA has a webhook target in the outbox (inside the caller's
    transaction, so a state change and its event are kept together or not at all)."""
    entries = []
    for notice in notices:
        c = notice.consent
        url = store.get_meta(target_key(c.shop_id, c.oa_id))
        if url:
            body = orjson.dumps(payload(notice, app_id)).decode()
            entries.append(OutboxEntry(0, c.shop_id, c.oa_id, url, body))
    if entries:
        store.add_outbox(entries)
    return len(entries)
