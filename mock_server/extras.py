"""Optional dependency groups: the contract kit and the dataset generator are extras, and a
command that needs one says in one line what to install."""

from __future__ import annotations

import importlib.util

import click

EXTRAS = {
    "contract": ("schemathesis", "hypothesis", "pytest"),
    "datasets": ("faker",),
    "postgresql": ("psycopg", "psycopg_pool"),
}


def missing(extra: str) -> list[str]:
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def need_extra(extra: str, command: str) -> None:
    """Stop with one line (a usage error of the CLI) when `extra` is not installed."""
    lacking = missing(extra)
    if lacking:
        raise click.UsageError(
            f"{command} needs the [{extra}] extra ({', '.join(lacking)} missing): "
            f"pip install 'etelecom-consent-sandbox[{extra}]'"
        )
