"""The webhook outbox on PostgreSQL: entries queued with the change that caused them, claimed by
one instance at a time with a lease, and their attempts logged."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from mock_server.domain.model import PENDING, Attempt, OutboxEntry
from mock_server.store.postgres_db import Queries, Row

_OUTBOX = "id, shop_id, oa_id, url, payload, state, attempts, next_attempt, consent_id"
# The oldest pending entry of each OA, if nobody else holds it (and, for the sender, if due).
# Locked rows are skipped: another instance is claiming them. `state` is checked again on the
# locked row, so an entry delivered meanwhile is not claimed.
_CLAIM = f"""
UPDATE outbox SET claimed_by = %(owner)s, claimed_until = %(until)s
WHERE id IN (
    SELECT id FROM outbox
    WHERE id IN (
        SELECT DISTINCT ON (shop_id, oa_id) id FROM outbox
        WHERE state = '{PENDING}' ORDER BY shop_id, oa_id, id
    )
    AND state = '{PENDING}'
    AND (claimed_by IS NULL OR claimed_by = %(owner)s OR claimed_until < %(now)s)
    AND (NOT %(due_only)s OR next_attempt <= %(now)s)
    FOR UPDATE SKIP LOCKED
)
RETURNING {_OUTBOX}
"""


class OutboxTables(Queries):
    def add_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        for entry in entries:
            entry.id = self._value(
                "INSERT INTO outbox (shop_id, oa_id, url, payload, state, attempts, "
                "next_attempt, consent_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    entry.shop_id,
                    entry.oa_id,
                    entry.url,
                    entry.payload,
                    entry.state,
                    entry.attempts,
                    entry.next_attempt,
                    entry.consent_id,
                ),
                retry=False,
            )

    def pending_outbox(self) -> list[OutboxEntry]:
        rows = self._rows(f"SELECT {_OUTBOX} FROM outbox WHERE state = %s ORDER BY id", (PENDING,))
        return [_entry(row) for row in rows]

    def claim_outbox(
        self, owner: str, now: float, lease: float, due_only: bool = True
    ) -> list[OutboxEntry]:
        params = {"owner": owner, "until": now + lease, "now": now, "due_only": due_only}

        def claim(conn: psycopg.Connection[Row]) -> list[OutboxEntry]:
            rows = conn.execute(_CLAIM, params).fetchall()
            return [_entry(row) for row in sorted(rows)]

        return self._db.run(claim, retry=False)

    def outbox_counts(self) -> dict[str, int]:
        rows = self._rows("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        return {str(state): int(count) for state, count in rows}

    def record_attempt(self, entry: OutboxEntry) -> None:
        update = (
            "UPDATE outbox SET state = %s, attempts = %s, next_attempt = %s, claimed_by = NULL "
            "WHERE id = %s"
        )
        values = (entry.state, entry.attempts, entry.next_attempt, entry.id)
        if not entry.log:
            self._exec(update, values)
            return
        last = entry.log[-1]
        self._exec(
            f"WITH changed AS ({update} RETURNING id) INSERT INTO attempts "
            "(outbox_id, at, status, error, fault) SELECT id, %s, %s, %s, %s FROM changed",
            (*values, last.at, last.status, last.error, last.fault),
        )

    def outbox_log(self, limit: int, state: str | None = None) -> list[OutboxEntry]:
        if state is None:
            rows = self._rows(f"SELECT {_OUTBOX} FROM outbox ORDER BY id DESC LIMIT %s", (limit,))
        else:
            rows = self._rows(
                f"SELECT {_OUTBOX} FROM outbox WHERE state = %s ORDER BY id DESC LIMIT %s",
                (state, limit),
            )
        return self._with_log([_entry(row) for row in reversed(rows)])

    def outbox_of(self, consent_id: int) -> list[OutboxEntry]:
        rows = self._rows(
            f"SELECT {_OUTBOX} FROM outbox WHERE consent_id = %s ORDER BY id", (consent_id,)
        )
        return self._with_log([_entry(row) for row in rows])

    def requeue_outbox(self, entry_id: int) -> OutboxEntry | None:
        row = self._row(
            "UPDATE outbox SET state = %s, attempts = 0, next_attempt = 0, claimed_by = NULL "
            f"WHERE id = %s RETURNING {_OUTBOX}",
            (PENDING, entry_id),
        )
        return None if row is None else self._with_log([_entry(row)])[0]

    def _with_log(self, entries: list[OutboxEntry]) -> list[OutboxEntry]:
        """The entries, each with its attempts (one statement for all)."""
        if entries:
            attempts = self._rows(
                "SELECT outbox_id, at, status, error, fault FROM attempts "
                "WHERE outbox_id = ANY(%s) ORDER BY outbox_id, at",
                ([e.id for e in entries],),
            )
            by_id = {e.id: e for e in entries}
            for outbox_id, at, status, error, fault in attempts:
                by_id[outbox_id].log.append(Attempt(at, status, error, fault))
        return entries


def _entry(row: Row) -> OutboxEntry:
    entry_id, shop_id, oa_id, url, payload, state, attempts, next_attempt, consent_id = row
    return OutboxEntry(
        entry_id, shop_id, oa_id, url, payload, state, attempts, next_attempt, [], consent_id
    )
