"""Cursor paging as eTelecom's backend does it: opaque `next`/`prev`, limit clamped to 100.

A cursor is the sort key of the item at a page's edge, bound to the shop and the sort order,
signed so that a cursor from another shop, another order or another server is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from mock_server.domain.errors import InvalidField
from mock_server.domain.policy import Policy
from mock_server.domain.query import ConsentQuery, SortKey

if TYPE_CHECKING:
    from mock_server.domain.requests import PagingInput

FIRST_PAGE = "."  # `after: "."` is the first page; `before: "."` the last one


@dataclass(frozen=True)
class PageRequest:
    after: str
    before: str
    limit: int
    sort: str


Item = TypeVar("Item")  # what a store's scan returns: consents, or their stored rows


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next: str
    prev: str


def page_request(paging: PagingInput, policy: Policy) -> PageRequest:
    """Paging as the backend reads it: no limit (or 0) is the default, more is clamped (not
    refused), no sort is the default order."""
    limit = min(int(paging.limit), policy.max_limit) if paging.limit else policy.default_limit
    return PageRequest(paging.after, paging.before, limit, paging.sort or policy.default_sort)


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def encode(self, query: ConsentQuery, sort: str, key: SortKey) -> str:
        payload = json.dumps([query.shop_id, sort, key[0], key[1]], separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return (body + b"." + self._sign(body)).decode()

    def decode(self, cursor: str, query: ConsentQuery, sort: str, argument: str) -> SortKey:
        body, _, signature = cursor.encode().partition(b".")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidField(argument, "is not a cursor this server issued")
        try:
            shop_id, cursor_sort, value, item_id = json.loads(_unpad(body))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise InvalidField(argument, "is not a cursor this server issued") from None
        if shop_id != query.shop_id or cursor_sort != sort:
            raise InvalidField(argument, "belongs to another shop or sort order")
        return (int(value), int(item_id))

    def _sign(self, body: bytes) -> bytes:
        digest = hmac.new(self._key, body, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(digest).rstrip(b"=")


def _unpad(body: bytes) -> bytes:
    return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))


def fetch_page(
    scan: Callable[[ConsentQuery, SortKey | None, bool, int], list[Item]],
    key: Callable[[Item], SortKey],
    codec: CursorCodec,
    query: ConsentQuery,
    request: PageRequest,
) -> Page[Item]:
    """One page. `scan(query, start, ascending, n)` returns up to n items past `start`; `key`
    is an item's place in the query's order."""
    backwards = request.before not in ("", FIRST_PAGE) or (
        request.before == FIRST_PAGE and request.after == ""
    )
    if request.after not in ("", FIRST_PAGE) and request.before not in ("", FIRST_PAGE):
        raise InvalidField("paging", "takes `after` or `before`, not both")
    cursor = request.before if backwards else request.after
    argument = "paging.before" if backwards else "paging.after"
    start = (
        None if cursor in ("", FIRST_PAGE) else codec.decode(cursor, query, request.sort, argument)
    )
    ascending = query.descending if backwards else not query.descending
    found = scan(query, start, ascending, request.limit + 1)
    more = len(found) > request.limit
    items = found[: request.limit]

    def edge(item: Item) -> str:
        return codec.encode(query, request.sort, key(item))

    if backwards:
        items.reverse()
        # Walking back from a cursor, the item it names (and what follows) is still ahead.
        next_ = edge(items[-1]) if items and start is not None else ""
        prev = edge(items[0]) if items and more else ""
    else:
        next_ = edge(items[-1]) if items and more else ""
        prev = edge(items[0]) if items and start is not None else ""
    return Page(items, next_, prev)
