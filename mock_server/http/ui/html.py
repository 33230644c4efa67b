"""HTML built in Python with one rule: every value is escaped unless it is `Markup` already.

`el("td", value)` escapes `value`; only `el`, `join`, `escape` and `attr` make `Markup`, so text
from a request body, a phone or a URL can never become markup by mistake.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

Child = object  # str, number, Markup, None (skipped), or a list/tuple/iterable of those
_escape = html.escape


class Markup(str):
    """HTML that is safe as it stands."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(_escape(value if isinstance(value, str) else str(value), True))


def _render(child: Child) -> str:
    if isinstance(child, str):
        return child if isinstance(child, Markup) else _escape(child, True)
    if child is None or child is False:
        return ""
    if isinstance(child, int | float):
        return str(child)
    if isinstance(child, list | tuple) or (
        isinstance(child, Iterable) and not isinstance(child, bytes)
    ):
        return "".join(_render(c) for c in child)
    return _escape(str(child), True)


def join(children: Iterable[Child], separator: str = "") -> Markup:
    return Markup(_escape(separator, True).join(_render(c) for c in children))


VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})


def attr(value: object) -> str:
    """An attribute value, escaped (quotes too)."""
    return _escape(value if isinstance(value, str) else str(value), True)


def el(tag: str, /, *children: Child, **attrs: object) -> Markup:
    """<tag attrs>children</tag>. `class_` is `class`, `data_x` is `data-x`; True is a bare
    attribute; None and False leave it out."""
    opening = tag
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        opening += f" {key}" if value is True else f' {key}="{attr(value)}"'
    if tag in VOID:
        return Markup(f"<{opening}>")
    return Markup(f"<{opening}>{''.join(_render(c) for c in children)}</{tag}>")
