"""Fixtures of integration tests: `api` for tests that drive the API (see http_support.py),
`console_site` for tests that read and post console pages (see console_support.py)."""

from support.console_site import console_site
from support.http_api import api

__all__ = ["api", "console_site"]
