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
# Who may read whole phone numbers in exports (adapters.tasks.export): the administrator, who
# answers for the data anyway. Everyone else, supervisors and viewers included, gets them
# masked as the unified view shows them.
PHONE_ROLES = frozenset({"admin"})


def may_see_phones(roles: frozenset[str]) -> bool:
    return bool(roles & PHONE_ROLES)


def mask_phone(phone: str | None) -> str | None:
    """A phone as a person's screen shows it (DESIGN 10's unified view): `138****5678`, the
    first three and last four digits of a mobile number (a +86 prefix dropped), enough to
    confirm with the caller, too little to dial; a short number keeps its last two."""
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


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
