"""A stateful sandbox of eTelecom's Zalo Cloud consent API, driven by its OpenAPI spec."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.settings import Settings

__all__ = ["Settings", "__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazily: `etelecom-sandbox` starts faster when it does not load what it does not use.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("etelecom-consent-sandbox")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    if name == "create_app":
        from mock_server.app import create_app

        return create_app
    if name == "Settings":
        from mock_server.settings import Settings

        return Settings
    raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
