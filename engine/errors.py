"""One error hierarchy for the whole service.

The CLI prints these without a traceback and the HTTP app maps them to statuses in one place,
so every layer raises one of these and never a bare exception for a user's mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with user input, with the place a person should look: a file's line
    and column, or the named input (`field`: a query parameter, a JSON field, a config key, a
    command's option) the message is about, which the HTTP layer files the message under."""

    file: str
    line: int
    column: int
    message: str
    field: str = ""

    def __str__(self) -> str:
        if not self.file:
            return f"{self.field}: {self.message}" if self.field else self.message
        if self.line:
            return f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{self.file}: {self.message}"


class TendError(Exception):
    """Base of every error a user can cause; `status` is the HTTP status it maps to.

    `message` is English, for logs, the CLI and API clients that read no other language.
    An error people also read in the console carries a `code` (`ticket.not_found`) and the
    `params` its sentence needs, so each language writes its own sentence from them
    (adapters/http/messages.py); without a code the message is shown as it is."""

    status = 500

    def __init__(self, message: str, *, code: str | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params or {})


class ValidationError(TendError):
    """Input that does not follow the formats; carries every problem found, not just the first."""

    status = 400

    def __init__(self, problems: Iterable[Problem] | str, field: str = "", *,
                 code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        """A list of problems, or one message (about the input `field`, if given); `code`
        and `params` as for every TendError."""
        if isinstance(problems, str):
            problems = [Problem("", 0, 0, problems, field)]
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems), code=code, params=params)


class NotFound(TendError):
    status = 404


class Unauthorized(TendError):
    status = 401


class Forbidden(TendError):
    status = 403


class Conflict(TendError):
    status = 409


class Invalid(TendError):
    """Bad input whose problems belong to named fields (or to batch items by index): the
    HTTP layer answers 400 with them under `errors`."""

    status = 400

    def __init__(self, message: str, errors: Mapping[str, Any],
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors)
        self.problems = problems or []
