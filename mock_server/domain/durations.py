"""Durations as the control API writes them: `90s`, `1h30m`, `2d`, `500ms`."""

from __future__ import annotations

import re

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")


def parse_duration_ms(text: str) -> int:
    """The duration in ms (any size: callers bound what they do with it)."""
    return sum(int(amount) * _UNIT_MS[unit] for amount, unit in _PART.findall(text))


def format_duration(ms: int) -> str:
    """The shortest way the control API writes `ms`: 3600000 is `1h`, 90000 is `1m30s`."""
    if ms == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNIT_MS[unit]
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)
