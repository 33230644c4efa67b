"""What ListRequestConsent asks the store for: filters, one sort order, a key to start after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_server.domain.model import FIELD_AT, Consent, ConsentRow
from mock_server.domain.phones import normalize_phone

if TYPE_CHECKING:
    from mock_server.domain.requests import ConsentFilter

# A position in a sort order: (value of the sort field, id). Ids break ties, so keys are unique.
SortKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ConsentQuery:
    shop_id: int
    sort_field: str = "created_at"  # created_at | updated_at
    descending: bool = True
    oa_id: int | None = None
    user_id: int | None = None
    phone_norm: str | None = None
    call_type: str | None = None
    reason_code: str | None = None
    status: str | None = None
    reply_status: str | None = None
    is_charged: bool | None = None
    created_from: int | None = None  # inclusive
    created_to: int | None = None  # exclusive

    def key(self, consent: Consent) -> SortKey:
        value: int = getattr(consent, self.sort_field)
        return (value, consent.id)

    def row_key(self, row: ConsentRow) -> SortKey:
        """`key` of a stored row."""
        value, consent_id = row[FIELD_AT[self.sort_field]], row[0]
        return (value, consent_id)  # type: ignore[return-value]

    def matches(self, c: Consent) -> bool:
        """The filter, for stores that filter in Python (SQLite filters in SQL)."""
        return (
            c.shop_id == self.shop_id
            and (self.oa_id is None or c.oa_id == self.oa_id)
            and (self.user_id is None or c.user_id == self.user_id)
            and (self.phone_norm is None or c.phone_norm == self.phone_norm)
            and (self.call_type is None or c.call_type == self.call_type)
            and (self.reason_code is None or c.reason_code == self.reason_code)
            and (self.status is None or c.status == self.status)
            and (self.reply_status is None or c.reply_status == self.reply_status)
            and (self.is_charged is None or c.is_charged == self.is_charged)
            and (self.created_from is None or c.created_at >= self.created_from)
            and (self.created_to is None or c.created_at < self.created_to)
        )


def query_for(shop_id: int, where: ConsentFilter, sort: str) -> ConsentQuery:
    """The store query of a ListRequestConsent filter and sort (`field` or `-field`)."""
    return ConsentQuery(
        shop_id=shop_id,
        sort_field=sort.removeprefix("-"),
        descending=sort.startswith("-"),
        oa_id=where.oa_id,
        user_id=where.user_id,
        phone_norm=normalize_phone(where.phone) if where.phone else None,
        call_type=where.call_type,
        reason_code=where.reason_code,
        status=where.status,
        reply_status=where.reply_status,
        is_charged=where.is_charged,
        created_from=where.date_from,
        created_to=where.date_to,
    )
