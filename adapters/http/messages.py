"""Errors in the reader's language: the console's error pages and the API's `message` (by
`Accept-Language`) write a coded error's sentence from its `code` and `params`.

Engine and service errors keep their English `message` (logs, CLI, old clients); a code
listed here gets its sentence from the catalog (adapters/http/console/translations). An error
without a code, or with one not listed, reads as its message.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ERROR_MESSAGES = {
    "ticket.not_found": _l("There is no ticket %(ticket)s."),
    "playbook.not_found": _l("There is no playbook %(playbook)s."),
    "playbook.version_not_found": _l("Playbook %(playbook)s has no stored version %(versions)s."),
    "customer.not_found": _l("There is no customer %(customer)s."),
    "page.not_open": _l("This page is not open to %(user)s (%(roles)s)."),
    "form.expired": _l("This form has expired or did not come from the console: reload the "
                       "page and try again."),
}


def listed(values: Any) -> str:
    """A list as a sentence's list (`a, b`), never Python's `['a', 'b']`."""
    if isinstance(values, list | tuple | set | frozenset):
        return _(", ").join(str(v) for v in values)
    return "" if values is None else str(values)


def error_text(exc: BaseException) -> str:
    """`exc` in the reader's language when it carries a listed `code`, else its message."""
    code = getattr(exc, "code", None)
    template = ERROR_MESSAGES.get(code) if isinstance(code, str) else None
    message = str(getattr(exc, "message", exc))
    if template is None:
        return message
    params = {k: listed(v) for k, v in (getattr(exc, "params", None) or {}).items()}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):  # a sentence and its params out of step
        return message
