"""Opaque cursors, shared by the list endpoints."""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Sequence

from engine.errors import Invalid


def encode_cursor(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise Invalid("cursor: not a cursor this service gave out",
                      {"cursor": ["expected the next_cursor of a previous page"]}) from None


def page(ids: Sequence[str], cursor: str | None, limit: int) -> tuple[list[str], str | None]:
    """A page of sorted ids after the cursor's id: stable while ids come and go between
    requests (an offset would skip or repeat)."""
    start = bisect.bisect_right(ids, decode_cursor(cursor)) if cursor else 0
    chunk = list(ids[start:start + limit])
    more = start + limit < len(ids)
    return chunk, encode_cursor(chunk[-1]) if more and chunk else None
