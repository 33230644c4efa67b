"""RFC 3339 in and out. Inside, instants are integer epoch milliseconds (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
DAY_MS = 86_400_000


def parse_rfc3339(text: str) -> int:
    """Epoch ms of an RFC 3339 date-time; a value without an offset is read as UTC."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH_DAY + timedelta(days=days)).isoformat()


def format_rfc3339(ms: int) -> str:
    """UTC with a `Z`, fractional seconds only when present (as Go's RFC3339Nano writes them).

    Hot: every listed consent has three or four times, so the date part is cached per day
    and the time of day is plain arithmetic.
    """
    days, rest = divmod(ms, DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{_day(days)}T{hour:02d}:{minute:02d}:{second:02d}"
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"
