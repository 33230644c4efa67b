"""The bundled specs, loaded once for the tests (the package itself never caches them)."""

from __future__ import annotations

from mock_server.spec import SpecDocument, Specs, load_specs

SPECS: Specs = load_specs()


def wire_spec() -> SpecDocument:
    return SPECS.wire


def control_spec() -> SpecDocument:
    return SPECS.control
