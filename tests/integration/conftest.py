"""Fixtures of integration tests: `api` for tests that drive the API (see http_support.py),
`console_site` for tests that read and post console pages (see console_support.py)."""

from console_support import console_site
from http_support import api

__all__ = ["api", "console_site"]
