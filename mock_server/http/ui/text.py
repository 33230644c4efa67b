"""Small pieces of text the pages share: instants with "in 3m", JSON bodies with the refused
field marked, keys masked, and a request as a curl command."""

from __future__ import annotations

import re
import shlex
from typing import Any

import orjson

from mock_server.domain.timefmt import format_rfc3339
from mock_server.http.ui.html import Markup, attr

COMMA, NEWLINE = ",\n", "\n"
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def span(ms: int) -> str:
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h" if hours < 48 else f"{hours // 24}d"


def relative(at: int, now: int) -> str:
    """`in 3m`, `3m ago` or `now`, against the sandbox's now."""
    delta = at - now
    if abs(delta) < 1000:
        return "now"
    return f"in {span(delta)}" if delta > 0 else f"{span(-delta)} ago"


def when(at: int | None, now: int) -> Markup:
    """An instant as the sandbox writes it, and how far it is from the sandbox's now."""
    if at is None:
        return Markup('<span class="none">—</span>')
    text = attr(format_rfc3339(at))
    return Markup(
        f'<time datetime="{text}">{text}</time> '
        f'<span class="rel" data-at="{at}">{attr(relative(at, now))}</span>'
    )


def field_path(path: str) -> tuple[str | int, ...]:
    """`filter.call_type` -> ("filter", "call_type"); `oa_ids[0]` -> ("oa_ids", 0)."""
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(path or ""))


def json_block(value: Any, mark: tuple[str | int, ...] | None = None) -> Markup:
    """`value` pretty-printed, with the node at `mark` (a refused field) highlighted."""
    out: list[str] = ['<pre class="json">']
    _node(value, (), mark, 0, out)
    out.append("</pre>")
    return Markup("".join(out))


def _node(value: Any, at: tuple[str | int, ...], mark: Any, depth: int, out: list[str]) -> None:
    marked = mark is not None and at == mark
    if marked:
        out.append('<mark class="refused" title="the field the sandbox refused">')
    pad = "  " * (depth + 1)
    if isinstance(value, dict) and value:
        out.append("{\n")
        for n, (k, v) in enumerate(value.items()):
            out.append(f'{COMMA if n else ""}{pad}<span class="key">{attr(_dumps(k))}</span>: ')
            _node(v, (*at, k), mark, depth + 1, out)
        out.append(NEWLINE + "  " * depth + "}")
    elif isinstance(value, list) and value:
        out.append("[\n")
        for n, v in enumerate(value):
            out.append(f"{COMMA if n else ''}{pad}")
            _node(v, (*at, n), mark, depth + 1, out)
        out.append(NEWLINE + "  " * depth + "]")
    else:
        out.append(f'<span class="{_kind(value)}">{attr(_dumps(value))}</span>')
    if marked:
        out.append("</mark>")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode() if value is not None else "null"


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, bool) or value is None:
        return "lit"
    return "num" if isinstance(value, int | float) else "lit"


def found(value: Any, path: tuple[str | int, ...]) -> bool:
    """Whether `path` names a node of `value`."""
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def mask(key: str) -> str:
    """`1000000000000000001:sandbox-demo-api-key` -> `1000000000000000001:••••`."""
    head, colon, _ = key.partition(":")
    return f"{head}:••••" if colon else "••••"


def curl(base_url: str, entry: dict[str, Any], key_variable: str | None) -> str:
    """The journal entry as a curl command; the key stands as a shell variable, never itself."""
    url = (
        base_url.rstrip("/") + entry["path"] + (f"?{entry['query']}" if entry.get("query") else "")
    )
    parts = ["curl", "-s", "-X", entry["method"], shlex.quote(url)]
    if entry.get("content_type"):
        parts += ["-H", shlex.quote(f"Content-Type: {entry['content_type']}")]
    if key_variable:
        parts += ["-H", f'"Authorization: Bearer ${key_variable}"']
    body = entry.get("request")
    if body is not None:
        raw = body if isinstance(body, str) else orjson.dumps(body).decode()
        parts += ["-d", shlex.quote(raw)]
    return " ".join(parts)
