"""A playbook's, offer's or workflow's problems in the reader's language.

The engine words its problems in English (`tend validate`, the API, logs) and names the
values in them: `steps.0.route: expected one of: pool, manager, got 'boss'`. The draft
editor shows them to designers who may read Chinese, so each common shape of message has a
sentence in the catalog with the same values as parameters. A message of no known shape
shows as the engine wrote it: never lost, only untranslated (and the English is precise).
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup

_PATH = re.compile(r"^(?P<path>[A-Za-z_][\w.\[\]-]*): (?P<rest>.+)$", re.DOTALL)
# (shape, sentence): the shape's named groups are the sentence's parameters. First match wins.
SHAPES: tuple[tuple[re.Pattern[str], LazyString], ...] = tuple(
    (re.compile(f"^{shape}$", re.DOTALL), sentence) for shape, sentence in (
        (r"this key is required", _l("this key is required")),
        (r"unknown key \(expected one of: (?P<keys>.+)\)",
         _l("unknown key (expected one of: %(keys)s)")),
        (r"expected an integer, got (?P<got>.+)", _l("expected an integer, got %(got)s")),
        (r"expected a positive integer, got (?P<got>.+)",
         _l("expected a positive integer, got %(got)s")),
        (r"expected a positive integer of at most (?P<max>\d+), got (?P<got>.+)",
         _l("expected a positive integer of at most %(max)s, got %(got)s")),
        (r"expected a string, got (?P<got>.+)", _l("expected a string, got %(got)s")),
        (r"expected a non-empty string", _l("expected a non-empty string")),
        (r"expected a non-empty string or \{zh, en\}(?P<more>.*)",
         _l("expected a non-empty string, or one per language {zh, en}")),
        (r"expected a list", _l("expected a list")),
        (r"expected a list of strings, got (?P<got>.+)",
         _l("expected a list of strings, got %(got)s")),
        (r"expected at least (?P<n>\d+) item\(s\)", _l("expected at least %(n)s item(s)")),
        (r"expected one of:? (?P<choices>.+), got (?P<got>.+)",
         _l("expected one of %(choices)s, got %(got)s")),
        (r"expected true or false, got (?P<got>.+)", _l("expected true or false, got %(got)s")),
        (r"expected an id of \[a-z0-9_-\]\+", _l("expected an id of [a-z0-9_-]+")),
        (r"expected a duration like (?P<like>.+), got (?P<got>.+)",
         _l("expected a duration like %(like)s, got %(got)s")),
        (r"expected 0 or more, got (?P<got>.+)", _l("expected 0 or more, got %(got)s")),
        (r"expected exactly one of 'schedule' .*",
         _l("expected exactly one of 'schedule' (a cron string), 'event' (an event type) or "
            "'contact' (a list of contact channels)")),
        (r"unknown field '(?P<name>[^']+)' \(known: (?P<known>.+)\)",
         _l("unknown field '%(name)s' (known fields: %(known)s)")),
        (r"unknown field '(?P<name>[^']+)': event fields exist only in event-triggered "
         r"playbooks", _l("unknown field '%(name)s': event fields exist only in "
                          "event-triggered playbooks")),
        (r"unknown workflow '(?P<name>[^']+)' \(expected one of: (?P<known>.+)\)",
         _l("unknown workflow '%(name)s' (expected one of: %(known)s)")),
        (r"unknown channel '(?P<name>[^']+)' \(expected one of the channels in (?P<known>.+)\)",
         _l("unknown channel '%(name)s' (expected one of the channels in %(known)s)")),
        (r"unknown operator '(?P<op>[^']+)' for (?P<type>\w+) field '(?P<name>[^']+)' "
         r"\(expected one of: (?P<known>.+)\)",
         _l("unknown operator '%(op)s' for the %(type)s field '%(name)s' (expected one of: "
            "%(known)s)")),
        (r"unknown event type '(?P<name>[^']+)' \(expected one of the events in (?P<known>.+)\)",
         _l("unknown event type '%(name)s' (expected one of the events in %(known)s)")),
        (r"unknown (?P<what>tier|tiers) '(?P<name>[^']+)' \(expected one of: (?P<known>.+)\)",
         _l("unknown tier '%(name)s' (expected one of: %(known)s)")),
    ))


# Parameters that list the names a place accepts (keys, fields, channels): code, the same in
# every language, shown as code so a Chinese sentence does not read as half English.
CODE_LISTS = frozenset({"keys", "known"})


def problem_words(message: str) -> Markup:
    """`message` (an engine problem, maybe `path: ...`) in the reader's language; the path
    into the YAML is code (`<code>steps.0.channel</code>`), the same in every language."""
    locale = get_locale()
    path, rest = "", message
    if (found := _PATH.match(message)) and not _whole(message):
        path, rest = found.group("path"), found.group("rest")
    spelled: str = rest
    if locale is not None and locale.language != "en":
        for shape, sentence in SHAPES:
            if match := shape.match(rest):
                spelled = Markup(str(sentence)) % {  # the values escaped, lists as code
                    name: Markup("<code>{}</code>").format(value) if name in CODE_LISTS
                    else value for name, value in match.groupdict().items()}
                break
    if not path:
        return Markup("{}").format(spelled)
    return Markup("<code>{}</code>: {}").format(path, spelled)


def _whole(message: str) -> bool:
    """A message whose start only looks like `path:` (`unknown field 'x': ...`)."""
    return any(shape.match(message) for shape, _sentence in SHAPES)
