"""The two OpenAPI documents, loaded once per app and handed to whoever needs them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mock_server.spec.document import (
    CONTROL_SPEC,
    WIRE_SPEC,
    Operation,
    SpecDocument,
    data_dir,
    load_document,
)

__all__ = [
    "CONTROL_SPEC",
    "WIRE_SPEC",
    "Operation",
    "SpecDocument",
    "Specs",
    "data_dir",
    "load_document",
    "load_specs",
]


@dataclass(frozen=True)
class Specs:
    wire: SpecDocument
    control: SpecDocument


def load_specs(folder: Path | None = None) -> Specs:
    """Both specs from `folder` (default: the bundled `openapi/`)."""
    return Specs(load_document(WIRE_SPEC, folder), load_document(CONTROL_SPEC, folder))
