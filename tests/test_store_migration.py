"""A SQLite file made by an older sandbox (before shops and OAs had names) opens, keeps its
shops, and takes new ones with names."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mock_server.domain.model import OfficialAccount, Shop
from mock_server.store.sqlite import SQLiteStore

OLD_SCHEMA = """
CREATE TABLE shops (shop_id INTEGER PRIMARY KEY, api_key TEXT NOT NULL UNIQUE,
                    shop_key TEXT NOT NULL UNIQUE);
CREATE TABLE shop_oas (shop_id INTEGER NOT NULL, oa_id INTEGER NOT NULL,
                       position INTEGER NOT NULL, PRIMARY KEY (shop_id, oa_id)) WITHOUT ROWID;
INSERT INTO shops VALUES (7, '7:old-key', 'shop7:old-key');
INSERT INTO shop_oas VALUES (7, 42, 0);
"""


def test_an_older_file_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = SQLiteStore(str(path))
    old = store.shop_by_key("7:old-key", partner=False)
    assert old == Shop(7, "7:old-key", "shop7:old-key", (OfficialAccount(42, ""),), "")
    new = Shop(8, "8:k", "shop8:k", (OfficialAccount(43, "Hoa Sen Spa"),), "Hoa Sen")
    store.create_shop(new)
    assert store.shop_by_key("shop8:k", partner=True) == new
    store.close()
    again = SQLiteStore(str(path))  # a second open migrates nothing twice
    assert again.shop_by_key("8:k", partner=False) == new
    again.close()


def test_check_consent_reads_from_indexes(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "plans.sqlite3"))
    for sql, index in (
        (
            "SELECT * FROM consents WHERE shop_id = 1 AND phone_norm = 'x' AND oa_id = 2 "
            "AND status = 'P' ORDER BY created_at DESC, id DESC LIMIT 1",
            "consents_by_phone",
        ),
        (
            "SELECT * FROM consents WHERE shop_id = 1 AND oa_id = 2 AND phone_norm = 'x' "
            "AND reply_status = 'P' ORDER BY expires_at DESC LIMIT 1",
            "consents_agreed",
        ),
    ):
        plan = " ".join(str(row[-1]) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert f"INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
    store.close()
