"""A stateful sandbox of eTelecom's Zalo Cloud consent API, driven by its OpenAPI spec."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("etelecom-consent-sandbox")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

from mock_server.app import create_app
from mock_server.settings import Settings

__all__ = ["Settings", "__version__", "create_app"]
