"""RFC 3339 in and out. Inside, instants are integer epoch milliseconds (UTC).

The sandbox's time runs from year 1 to the end of year 9999 (what RFC 3339's four-digit year
can write, and Python's datetime can hold). Parsing accepts every RFC 3339 date-time, year 0000
and offsets that cross year 9999 included, by plain calendar arithmetic; what falls outside the
range is for the caller to refuse or clamp. Sums of an instant and a duration saturate at the end
(`later`), so no window or delay, however long, makes an instant that cannot be written.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

DAY_MS = 86_400_000
FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_EPOCH_DAY = date(1970, 1, 1)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?"
)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_rfc3339(text: str) -> int:
    """Epoch ms of an RFC 3339 date-time (a value without an offset is read as UTC); a leap
    second (:60) is the first instant of the next minute. ValueError if it is not one."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text[:60]!r}")
    year, month, day, hour, minute, second = (int(match[n]) for n in range(1, 7))
    if not 1 <= month <= 12 or not 1 <= day <= _month_days(year, month):
        raise ValueError(f"no such date: {text[:60]!r}")
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"no such time of day: {text[:60]!r}")
    millis = int((match[7] or ".0")[1:4].ljust(3, "0"))
    offset = 0
    zone = match[8]
    if zone and zone not in "Zz":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"no such offset: {text[:60]!r}")
        offset = (hours * 60 + minutes) * (1 if zone[0] == "+" else -1)
    seconds = _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    return (seconds - offset * 60) * 1000 + millis


def within_range(ms: int) -> bool:
    return FIRST_MS <= ms <= LAST_MS


def clamp(ms: int) -> int:
    """An instant brought into the sandbox's time (for comparisons, as in a filter)."""
    # Comparisons, not min/max: this runs for every time of every consent written out.
    return FIRST_MS if ms < FIRST_MS else LAST_MS if ms > LAST_MS else ms


def later(instant: int, duration_ms: int) -> int:
    """`instant` plus a duration, saturating at the sandbox's last instant."""
    moved = instant + duration_ms
    return moved if moved < LAST_MS else LAST_MS


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH_DAY + timedelta(days=days)).isoformat()


@lru_cache(maxsize=4096)
def format_rfc3339(ms: int) -> str:
    """UTC with a `Z`, fractional seconds only when present (as Go's RFC3339Nano writes them).

    Hot: every listed consent has three or four times, and a new consent's creation, its
    update and its journal entry share one instant, so answers are kept (a bounded cache),
    the date part per day, and the time of day is plain arithmetic.
    """
    days, rest = divmod(clamp(ms), DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{_day(days)}T{hour:02d}:{minute:02d}:{second:02d}"
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"
