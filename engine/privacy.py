"""Personal contact data kept out of logs and adapter outputs: phones and emails masked.

Pure text work, so request logs (adapters.http.observe), the log channel and channel errors
(adapters.channels) mask the same way without the channels loading the web app.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")
# 8+ digits, maybe spaced: phone numbers, but not dates, times or ids like c0000042
PHONE = re.compile(r"(?<!\w)\+?\d(?: ?\d){7,}(?!\w)")
SENSITIVE_KEYS = ("phone", "email")


def _mask_text(text: str) -> str:
    text = EMAIL.sub(r"\1***@\2", text)
    return PHONE.sub(lambda m: "***" + m.group(0)[-2:], text)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, dict):
        return {k: "***" if k in SENSITIVE_KEYS and v else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def mask_personal_data(_logger: Any, _name: str,
                       event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: personal contact data never reaches a log line."""
    return {key: "***" if key in SENSITIVE_KEYS and value else _mask(value)
            for key, value in event.items()}
