"""Store backends: SQLite keeps everything across restarts and lists from its indexes."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.app import build_services
from mock_server.domain.query import ConsentQuery
from mock_server.store.sqlite import SQLiteStore, _where
from tests.conftest import DEMO, QUIET, START, Api, new_shop
from tests.specs import SPECS


def test_sqlite_keeps_shops_consents_and_clock_across_restarts(tmp_path: Path) -> None:
    settings = Settings(
        store=f"sqlite:{tmp_path / 'db.sqlite3'}", clock_start=START, clock_rate=0, **QUIET
    )
    with TestClient(create_app(settings, SPECS)) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
        made = [api.request_consent(phone=f"091{n:07d}") for n in range(1, 6)]
        other = new_shop(client, api_key="keep-me", shop_key="shop-keep-me")
        theirs = other.request_consent()
        client.post("/_sandbox/clock", json={"advance": "3h"})
    with TestClient(create_app(settings, SPECS)) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
        assert api.page()["consents"] == list(reversed(made))
        other = Api(client, "keep-me", "shop-keep-me", theirs["oa_id"])
        assert other.page()["consents"] == [theirs]
        assert client.get("/_sandbox/clock").json()["now"] == "2026-01-01T03:00:00Z"
        assert int(api.request_consent()["id"]) > int(theirs["id"])


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (ConsentQuery(shop_id=1), "consents_by_created"),
        (ConsentQuery(shop_id=1, descending=False), "consents_by_created"),
        (ConsentQuery(shop_id=1, sort_field="updated_at"), "consents_by_updated"),
        (ConsentQuery(shop_id=1, phone_norm="84912345678"), "consents_by_phone"),
        (ConsentQuery(shop_id=1, call_type="audio", status="P"), "consents_by_created"),
    ],
)
def test_listing_is_served_by_an_index(tmp_path: Path, query: ConsentQuery, index: str) -> None:
    store = SQLiteStore(str(tmp_path / "plan.sqlite3"))
    where, params = _where(query)
    where.append(f"({query.sort_field}, id) < (?, ?)")
    order = "DESC" if query.descending else "ASC"
    plan = store._db.execute(
        f"EXPLAIN QUERY PLAN SELECT * FROM consents WHERE {' AND '.join(where)} "
        f"ORDER BY {query.sort_field} {order}, id {order} LIMIT 101",
        (*params, 0, 0),
    ).fetchall()
    text = " ".join(str(row[-1]) for row in plan)
    assert f"USING INDEX {index}" in text or f"USING COVERING INDEX {index}" in text, text
    assert "TEMP B-TREE" not in text, text  # no sort of the whole result
    store.close()


def test_bulk_load_assigns_ids_after_existing_ones(settings: Settings) -> None:
    sandbox = build_services(settings, SPECS)
    with TestClient(create_app(settings, SPECS, sandbox)) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
        first = api.request_consent()
        template = sandbox.store.scan(ConsentQuery(shop_id=DEMO.demo_shop_id), None, True, 1)[0]
        assert sandbox.store.insert_many([template] * 3) == 3
        second = api.request_consent()
        assert int(second["id"]) == int(first["id"]) + 4
        assert len(api.page()["consents"]) == 5
