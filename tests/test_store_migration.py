"""A SQLite file made by an older sandbox opens and is brought up to date: shops and OAs
without names, delivery attempts without the fault rule that touched them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mock_server.domain.model import Attempt, OfficialAccount, Shop
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


OLD_ATTEMPTS = """
CREATE TABLE outbox (id INTEGER PRIMARY KEY, shop_id INTEGER NOT NULL, oa_id INTEGER NOT NULL,
                     url TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
                     attempts INTEGER NOT NULL, next_attempt REAL NOT NULL);
CREATE TABLE attempts (outbox_id INTEGER NOT NULL, at REAL NOT NULL, status INTEGER,
                       error TEXT NOT NULL);
INSERT INTO outbox VALUES (1, 7, 42, 'http://127.0.0.1:9/hook', '{}', 'pending', 1, 0);
INSERT INTO attempts VALUES (1, 1.5, 503, 'HTTP 503');
"""


def test_an_older_delivery_log_gains_the_fault_of_each_attempt(tmp_path: Path) -> None:
    path = tmp_path / "old-log.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_ATTEMPTS)
    store = SQLiteStore(str(path))
    (entry,) = store.outbox_log(10)
    assert entry.log == [Attempt(1.5, 503, "HTTP 503", "")]
    entry.attempts += 1
    entry.log.append(Attempt(2.5, None, "not sent: dropped by fault rule down", "down"))
    store.record_attempt(entry)
    (kept,) = store.outbox_log(10)
    assert [a.fault for a in kept.log] == ["", "down"]
    store.close()
