"""A stateful sandbox of eTelecom's Zalo Cloud consent API, driven by its OpenAPI spec."""

from __future__ import annotations

from mock_server.app import create_app
from mock_server.settings import Settings

__all__ = ["Settings", "create_app"]
