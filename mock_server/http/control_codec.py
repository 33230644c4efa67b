"""The control API's codec: its JSON bodies to typed requests, and results back to JSON."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson

from mock_server.domain.durations import parse_duration_ms
from mock_server.domain.fault_book import RuleState
from mock_server.domain.model import OutboxEntry, Shop
from mock_server.domain.requests import ClockMove, Force, NewShop
from mock_server.domain.timefmt import format_rfc3339
from mock_server.http.codec import time_or_none, to_instant, to_int64
from mock_server.services.clock import ClockView
from mock_server.services.coverage import Report
from mock_server.services.faults import FaultTables
from mock_server.services.scenarios import RuleTables
from mock_server.services.shops import Health
from mock_server.services.webhooks import Target

Body = Mapping[str, Any]


def new_shop(body: Body | None) -> NewShop:
    body = body or {}
    return NewShop(
        shop_id=to_int64(body.get("shop_id"), "shop_id") or None,
        api_key=body.get("api_key"),
        shop_key=body.get("shop_key"),
        oa_ids=tuple(to_int64(oa, f"oa_ids[{n}]") for n, oa in enumerate(body.get("oa_ids") or ())),
        name=body.get("name") or None,
        oa_names=tuple(name or None for name in body.get("oa_names") or ()),
    )


def clock_move(body: Body) -> ClockMove:
    return ClockMove(
        set_ms=to_instant(body["set"], "set") if "set" in body else None,
        advance_ms=parse_duration_ms(body["advance"]) if "advance" in body else None,
        rate=float(body["rate"]) if "rate" in body else None,
    )


def force(body: Body) -> Force:
    return Force(to_int64(body["consent_id"], "consent_id"), body["action"])


def optional_shop_id(body: Body) -> int | None:
    return to_int64(body.get("shop_id"), "shop_id") or None


def shop(shop: Shop) -> dict[str, Any]:
    return {
        "shop_id": str(shop.shop_id),
        "name": shop.name,
        "api_key": shop.api_key,
        "shop_key": shop.shop_key,
        "oa_ids": [str(oa) for oa in shop.oa_ids],
        "oas": [{"oa_id": str(oa.oa_id), "name": oa.name} for oa in shop.oas],
    }


def health(found: Health) -> dict[str, Any]:
    return {
        "status": "ok",
        "store": found.store,
        "shops": found.shops,
        "consents": found.consents,
        "worker": str(os.getpid()),
    }


def clock(view: ClockView) -> dict[str, Any]:
    return {"now": format_rfc3339(view.now), "rate": view.rate, "frozen": view.frozen}


def rule_tables(tables: RuleTables) -> dict[str, Any]:
    return {
        "shops": {str(shop_id): rules for shop_id, rules in tables.shops.items()},
        "global": tables.global_rules,
        "magic_phones": tables.magic_phones,
    }


def targets(found: list[Target]) -> dict[str, Any]:
    return {
        "targets": [{"shop_id": str(t.shop_id), "oa_id": str(t.oa_id), "url": t.url} for t in found]
    }


def deliveries(entries: list[OutboxEntry]) -> dict[str, Any]:
    return {"deliveries": [delivery(e) for e in entries]}


def delivery(e: OutboxEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "consent_id": str(e.consent_id),
        "oa_id": str(e.oa_id),
        "url": e.url,
        "state": e.state,
        "attempts": e.attempts,
        "event": orjson.loads(e.payload),
        "log": [
            {
                "at": format_rfc3339(int(a.at * 1000)),
                "status": a.status,
                "error": a.error,
                "fault": a.fault,
            }
            for a in e.log
        ],
    }


def fault_state(state: RuleState) -> dict[str, Any]:
    """A rule as it was given (with its id), and what it has done."""
    return {
        **state.placed.document,
        "matched": state.matched,
        "hits": state.hits,
        "active": state.active,
        "remaining": state.remaining,
        "expires_at": time_or_none(state.expires_at),
    }


def fault_tables(tables: FaultTables, held: int) -> dict[str, Any]:
    return {
        "global": [fault_state(s) for s in tables.global_rules],
        "shops": {
            str(shop): [fault_state(s) for s in rules] for shop, rules in tables.shops.items()
        },
        "held": held,
    }


def coverage(report: Report, rules_link: str) -> dict[str, Any]:
    """A coverage report: every item with its count and example, then the misuse found."""
    total = len(report.items)
    return {
        "shops": [str(shop_id) for shop_id in report.shop_ids],
        "reached": report.reached,
        "total": total,
        "percent": round(100 * report.reached / total, 1) if total else 0.0,
        "items": [
            {
                "id": i.item.id,
                "group": i.item.group,
                "label": i.item.label,
                "reached": i.count > 0,
                "count": i.count,
                "example": i.example,
            }
            for i in report.items
        ],
        "misuse": [
            {
                "rule": m.rule.id,
                "why": m.rule.why,
                "link": f"{rules_link}",
                "count": m.count,
                "example": m.example or {},
            }
            for m in report.misuse
        ],
    }
