"""The SQLite schema. Indexes serve each listing order, with and without a phone filter.

`MIGRATIONS` bring a file made by an older sandbox up to date: columns added since, each added
once (SQLite has no ADD COLUMN IF NOT EXISTS, so the store checks the table first)."""

from __future__ import annotations

from mock_server.domain import states
from mock_server.domain.model import CONSENT_FIELDS

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shops (
    shop_id INTEGER PRIMARY KEY,
    api_key TEXT NOT NULL UNIQUE,
    shop_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS shop_oas (
    shop_id INTEGER NOT NULL,
    oa_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (shop_id, oa_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS consents (
    {", ".join(f + (" INTEGER PRIMARY KEY" if f == "id" else "") for f in CONSENT_FIELDS)}
);
CREATE INDEX IF NOT EXISTS consents_by_created ON consents (shop_id, created_at, id);
CREATE INDEX IF NOT EXISTS consents_by_updated ON consents (shop_id, updated_at, id);
CREATE INDEX IF NOT EXISTS consents_by_phone ON consents (shop_id, phone_norm, created_at, id);
CREATE INDEX IF NOT EXISTS consents_waiting ON consents (shop_id, oa_id, phone_norm)
    WHERE reply_status = '{states.REPLY_WAITING}';
-- CheckConsent's newest requests walk consents_by_phone back from the newest: one index fewer to
-- keep on every insert (an earlier version had consents_check for it).
DROP INDEX IF EXISTS consents_check;
CREATE INDEX IF NOT EXISTS consents_agreed ON consents (shop_id, oa_id, phone_norm, expires_at)
    WHERE reply_status = '{states.REPLY_AGREED}';
-- Planned events: sqlite_plans.py (one row per consent).
CREATE TABLE IF NOT EXISTS history (
    consent_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    forced INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_consent ON history (consent_id, at);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    oa_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt REAL NOT NULL,
    claimed_by TEXT,
    claimed_until REAL NOT NULL DEFAULT 0,
    consent_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, id);
CREATE INDEX IF NOT EXISTS outbox_heads ON outbox (state, shop_id, oa_id, id);
CREATE TABLE IF NOT EXISTS attempts (
    outbox_id INTEGER NOT NULL,
    at REAL NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    fault TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS attempts_by_entry ON attempts (outbox_id, at);
"""

# (table, column, its definition): added to files made before the column existed.
MIGRATIONS = (
    ("shops", "name", "TEXT NOT NULL DEFAULT ''"),
    ("shop_oas", "name", "TEXT NOT NULL DEFAULT ''"),
    ("outbox", "claimed_by", "TEXT"),
    ("outbox", "claimed_until", "REAL NOT NULL DEFAULT 0"),
    ("attempts", "fault", "TEXT NOT NULL DEFAULT ''"),
    ("outbox", "consent_id", "INTEGER NOT NULL DEFAULT 0"),
)

# Indexes on migrated columns: made once the columns exist.
AFTER_MIGRATIONS = """
CREATE INDEX IF NOT EXISTS outbox_by_consent ON outbox (consent_id, id);
"""
