"""RFC 3339 in and out. Inside, instants are integer epoch milliseconds (UTC).

The sandbox's time runs from year 1 to the end of year 9999 (what RFC 3339's four-digit year
can write). Sums of an instant and a duration saturate at the end (`later`), so no window or
delay, however long, makes an instant that cannot be written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
DAY_MS = 86_400_000
FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def parse_rfc3339(text: str) -> int:
    """Epoch ms of an RFC 3339 date-time; a value without an offset is read as UTC.

    ValueError when it is not one, or names an instant outside years 1 to 9999 (UTC). A leap
    second (:60) is read as the first instant of the next minute.
    """
    text = text.replace("z", "Z")
    leap = len(text) > 18 and text[16:19] == ":60"
    if leap:
        text = text[:17] + "59" + text[19:]
    try:
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValueError(f"not an RFC 3339 date-time between years 1 and 9999: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if leap:
        ms = (ms // 1000 + 1) * 1000
    if not FIRST_MS <= ms <= LAST_MS:
        raise ValueError(f"{text!r} is outside years 1 to 9999 (UTC)")
    return ms


def later(instant: int, duration_ms: int) -> int:
    """`instant` plus a duration, saturating at the sandbox's last instant."""
    return min(instant + duration_ms, LAST_MS)


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH_DAY + timedelta(days=days)).isoformat()


def format_rfc3339(ms: int) -> str:
    """UTC with a `Z`, fractional seconds only when present (as Go's RFC3339Nano writes them).

    Hot: every listed consent has three or four times, so the date part is cached per day
    (a bounded cache) and the time of day is plain arithmetic.
    """
    ms = min(max(ms, FIRST_MS), LAST_MS)
    days, rest = divmod(ms, DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{_day(days)}T{hour:02d}:{minute:02d}:{second:02d}"
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"
