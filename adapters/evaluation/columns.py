"""Text in terminal columns, for the tables and labelled lines the CLI prints: a Chinese
character takes two columns, so Python's `:<9` would push a Chinese table out of line."""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """How many terminal columns `text` takes."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def left(text: str, columns: int) -> str:
    """`text` then spaces up to `columns` (as `f"{text:<columns}"` for ASCII)."""
    return text + " " * max(columns - width(text), 0)


def right(text: str, columns: int) -> str:
    """Spaces then `text`, ending at `columns` (as `f"{text:>columns}"` for ASCII)."""
    return " " * max(columns - width(text), 0) + text
