"""Every store pages alike: on the same consents, the memory store's indexes (and their
unchecked slices, for a query its walked list answers exactly) and SQLite's SQL give the same
rows for any query, start and direction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.ids import CONSENT_ID_BASE
from mock_server.domain.model import Consent, OfficialAccount, Shop
from mock_server.domain.query import ConsentQuery
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SQLiteStore

SHOP = Shop(1, "key-a", "key-b", (OfficialAccount(11, "a"), OfficialAccount(12, "b")))
PHONES = ("84900000001", "84900000002", "84900000003")
CALLS = ("audio", "video")
REASONS = ("update_order", "flight_announcement")
STATUSES = ("S", "P", "N")
REPLIES = ("S", "P", "R")
COUNT = 80


def changed(store: MemoryStore | SQLiteStore) -> None:
    """Every third consent changed as the world changes them: its status, reply, charge and
    `updated_at` (moving it in that order, ties included), so the indexes are read after
    changes too."""
    for n in range(0, COUNT, 3):
        consent = store.get_consent(CONSENT_ID_BASE + 1 + n)
        assert consent is not None
        consent.status = STATUSES[(n + 1) % 3]
        consent.reply_status = REPLIES[(n + 2) % 3]
        consent.is_charged = not consent.is_charged
        consent.updated_at = 1_000 * (COUNT + n // 4)
        with store.transaction():
            store.update_consent(consent)


def consents() -> Iterator[Consent]:
    """COUNT consents whose values cycle at different rates, with tied times (ids break them)."""
    for n in range(COUNT):
        yield Consent(
            0,
            SHOP.shop_id,
            100 + n % 4,
            SHOP.oas[n % 2].oa_id,
            "0" + PHONES[n % 3][2:],
            PHONES[n % 3],
            CALLS[n % 2],
            REASONS[n // 2 % 2],
            STATUSES[n % 3],
            REPLIES[n // 3 % 3],
            "unknown",
            None,
            n % 5 == 0,
            0,
            "",
            None,
            1_000 * (n // 2),  # two consents an instant
            1_000 * (COUNT - n // 3),  # a different order
        )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MemoryStore, SQLiteStore]]:
    memory = MemoryStore()
    sqlite = SQLiteStore(str(Path(tmp_path_factory.mktemp("scans")) / "scans.sqlite3"))
    for store in (memory, sqlite):
        store.create_shop(SHOP)
        assert store.insert_many(consents()) == COUNT
        changed(store)
    yield memory, sqlite
    sqlite.close()


FILTER_VALUES: dict[str, tuple[object, ...]] = {
    "oa_id": (11, 12, 13),
    "user_id": (100, 103),
    "phone_norm": (*PHONES, "84999999999"),
    "call_type": CALLS,
    "reason_code": REASONS,
    "status": STATUSES,
    "reply_status": REPLIES,
    "is_charged": (True, False),
}


@st.composite
def queries(draw: st.DrawFn) -> ConsentQuery:
    """Up to three filters (none or one: the memory store's unchecked slices), and a date
    range or not, on either order."""
    names = draw(st.sets(st.sampled_from(sorted(FILTER_VALUES)), max_size=3))
    filters: dict[str, Any] = {name: draw(st.sampled_from(FILTER_VALUES[name])) for name in names}
    return ConsentQuery(
        shop_id=SHOP.shop_id,
        sort_field=draw(st.sampled_from(("created_at", "updated_at"))),
        created_from=draw(st.sampled_from((None, 0, 10_000, 25_000))),
        created_to=draw(st.sampled_from((None, 5_000, 30_000, 99_000))),
        **filters,
    )


@settings(max_examples=300, deadline=None)
@given(
    query=queries(),
    start=st.one_of(
        st.none(),
        st.tuples(
            st.sampled_from([1_000 * n for n in range(0, COUNT + 2, 3)]),
            st.integers(CONSENT_ID_BASE, CONSENT_ID_BASE + COUNT + 1),
        ),
    ),
    ascending=st.booleans(),
    count=st.integers(1, 30),
)
def test_memory_and_sqlite_scan_the_same_rows(
    stores: tuple[MemoryStore, SQLiteStore],
    query: ConsentQuery,
    start: tuple[int, int] | None,
    ascending: bool,
    count: int,
) -> None:
    memory, sqlite = stores
    expected = sqlite.scan_rows(query, start, ascending, count)
    assert memory.scan_rows(query, start, ascending, count) == expected
    assert [c.id for c in memory.scan(query, start, ascending, count)] == [r[0] for r in expected]
