"""HTML built in Python with one rule: every value is escaped unless it is `Markup` already.

`el("td", value)` escapes `value`; only `el`, `join` and `escape` make `Markup`, so text from a
request body, a phone or a URL can never become markup by mistake.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

Child = object  # str, number, Markup, None (skipped), or an iterable of those


class Markup(str):
    """HTML that is safe as it stands."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(children: Iterable[Child], separator: str = "") -> Markup:
    return Markup(escape(separator).join(_flatten(children)))


def _flatten(children: Iterable[Child]) -> Iterable[Markup]:
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int | float):
            yield escape(child)
        elif isinstance(child, Iterable):
            yield from _flatten(child)
        else:
            yield escape(child)


VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})


def el(tag: str, /, *children: Child, **attrs: object) -> Markup:
    """<tag attrs>children</tag>. `class_` is `class`, `data_x` is `data-x`; True is a bare
    attribute; None and False leave it out."""
    parts = [tag]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{escape(value)}"')
    opening = f"<{' '.join(parts)}>"
    if tag in VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{tag}>")
