"""The language the command line speaks: `--lang`, else TEND_LOCALE, else English.

Its sentences are the console's catalog (adapters/http/console/translations; `pybabel
extract` reads this module too, docs/CONSOLE.md): the evaluation report's `Words`
(adapters/tickets/report_words.py) and the engine's problems worded by the shapes of
adapters/http/problem_shapes.py, the table the draft editor uses. In English every text
stays exactly as the engine and the commands write it; numbers, ids, codes, the
`file:line:col` of a problem and its YAML path are the same in every language.
"""

from __future__ import annotations

import dataclasses
import gettext as gettext_module
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from adapters.http.problem_shapes import spelled, split
from adapters.tickets.report_words import Words
from engine.config import Config
from engine.errors import Problem

LANGUAGES = ("en", "zh")
F = TypeVar("F", bound=Callable[..., Any])


def _(text: str) -> str:
    """Marks a msgid for `pybabel extract`; `Speech.gettext` looks it up."""
    return text


# `tend validate`'s line per good file (engine.playbooks.library._summary), as shapes like the
# problems': the path, ids and versions are the parameters.
SUMMARIES = tuple((re.compile(f"^{shape}$"), sentence) for shape, sentence in (
    (r"(?P<path>.+): OK, (?P<kind>playbook|offer) (?P<id>\S+) version (?P<version>\d+)",
     _("%(path)s: OK, %(kind)s %(id)s version %(version)s")),
    (r"(?P<path>.+): OK, (?P<kind>playbook|offer|workflow) (?P<id>\S+)",
     _("%(path)s: OK, %(kind)s %(id)s")),
    (r"(?P<path>.+): OK, (?P<n>\d+) test case\(s\)", _("%(path)s: OK, %(n)s test case(s)")),
))
_KINDS = {"playbook": _("playbook"), "offer": _("offer"), "workflow": _("workflow")}


def lang_option(what: str) -> Callable[[F], F]:
    """`--lang en|zh` for a command, its help naming `what` it decides."""
    return click.option("--lang", "lang", type=click.Choice(LANGUAGES), default=None,
                        help=f"The language of {what} [default: TEND_LOCALE, else en].")


def language_of(lang: str | None) -> str:
    """`--lang`, else TEND_LOCALE's language (`zh_CN` → zh), else en; an unknown one is en."""
    chosen = lang or os.environ.get("TEND_LOCALE", "en").split("_")[0].split("-")[0]
    return chosen if chosen in LANGUAGES else "en"


def catalog(language: str) -> Any:
    """The console's translations in `language` (English has no catalog: babel's null
    translations give back the msgids, which are the English)."""
    from babel.support import Translations

    from adapters.http.console.i18n import TRANSLATIONS

    return Translations.load(str(TRANSLATIONS), [language])


def report_words(config: Config, lang: str | None) -> Words:
    """The report's words in the chosen language, config.yaml's channel labels with them."""
    language = language_of(lang)
    return Words(language, catalog(language),
                 {name: channel.label for name, channel in config.channels.items()})


@dataclasses.dataclass(frozen=True)
class Speech:
    """What a designer's command says (problems, warnings, counts) in one language."""

    language: str = "en"
    translations: Any = dataclasses.field(default_factory=gettext_module.NullTranslations)

    @classmethod
    def chosen(cls, lang: str | None) -> Speech:
        language = language_of(lang)
        return cls(language, catalog(language))

    def gettext(self, text: str, **params: Any) -> str:
        found = str(self.translations.gettext(text))
        return found % params if params else found

    def problem(self, problem: Problem) -> str:
        """`file:line:col: path: message`, the message in this language when it has a shape
        (the location and the path as they are)."""
        return str(dataclasses.replace(problem, message=self.message(problem.message)))

    def message(self, message: str) -> str:
        if self.language == "en":
            return message
        path, rest = split(message)
        worded = spelled(rest, self.gettext, str)
        return f"{path}: {worded}" if path else worded

    def summary(self, line: str) -> str:
        """A good file's line of `tend validate` in this language (as it is in English)."""
        if self.language == "en":
            return line
        for shape, sentence in SUMMARIES:
            if found := shape.match(line):
                params = found.groupdict()
                if "kind" in params:  # the catalog's words for them (策略, 政策, 流程)
                    params["kind"] = self.gettext(_KINDS[params["kind"]])
                return self.gettext(sentence, **params)
        return line

    def cases(self, passed: int, failed: int) -> str:
        """`tend test`'s last line."""
        return self.gettext(_("cases: %(passed)s passed, %(failed)s failed"), passed=passed,
                            failed=failed)

    def problems(self, count: int) -> str:
        return self.gettext(_("%(n)s problem(s)"), n=count)

    def files_ok(self, count: int, warnings: int) -> str:
        found = self.gettext(_(", %(n)s warning(s)"), n=warnings) if warnings else ""
        return self.gettext(_("%(n)s file(s) OK%(warnings)s"), n=count, warnings=found)
