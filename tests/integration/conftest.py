"""The HTTP fixture `api` for integration tests that drive the API (see http_support.py)."""

from http_support import api

__all__ = ["api"]
