"""A playbook's, offer's or workflow's problems in the reader's language.

The engine words its problems in English (`tend validate`, the API, logs) and names the
values in them: `steps.0.route: expected one of: pool, manager, got 'boss'`. The draft
editor shows them to designers who may read Chinese, so each common shape of message has a
sentence in the catalog with the same values as parameters. A message of no known shape
shows as the engine wrote it: never lost, only untranslated (and the English is precise).
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup

_PATH = re.compile(r"^(?P<path>[A-Za-z_][\w.\[\]-]*): (?P<rest>.+)$", re.DOTALL)
# engine.language.suggest's " — did you mean 'x'?" (or 'x' or 'y'), worded apart from its sentence.
_HINT = re.compile(r" — did you mean (?P<close>'[^']*'(?: or '[^']*')*)\?")
_NAME = r"'(?P<name>[^']*)'"
# (shape, sentence): the shape's named groups are the sentence's parameters. First match wins.
# Every shape the draft checks produce (parse_playbook, the `at` field, the policy warnings)
# is here: tests/unit/http/test_problem_words.py walks the bad fixtures and generated bad drafts.
SHAPES: tuple[tuple[re.Pattern[str], LazyString], ...] = tuple(
    (re.compile(f"^{shape}$", re.DOTALL), sentence) for shape, sentence in (
        (r"this key is required", _l("this key is required")),
        (r"is empty \(expected a value\)", _l("is empty (expected a value)")),
        (r"field may not be null", _l("is empty (expected a value)")),
        (r"unknown key \(expected one of: (?P<keys>.+)\)",
         _l("unknown key (expected one of: %(keys)s)")),
        (r"expected an integer, got (?P<got>.+)", _l("expected an integer, got %(got)s")),
        (r"expected a positive integer, got (?P<got>.+)",
         _l("expected a positive integer, got %(got)s")),
        (r"expected a positive integer of at most (?P<max>\d+), got (?P<got>.+)",
         _l("expected a positive integer of at most %(max)s, got %(got)s")),
        (r"expected a number, got (?P<got>.+)", _l("expected a number, got %(got)s")),
        (r"expected a positive number, got (?P<got>.+)",
         _l("expected a positive number, got %(got)s")),
        (r"expected (?P<n>\d+) or more, got (?P<got>.+)",
         _l("expected %(n)s or more, got %(got)s")),
        (r"expected 0 ≤ holdout < 1, got (?P<got>.+)",
         _l("expected 0 ≤ holdout < 1, got %(got)s")),
        (r"expected a string, got (?P<got>.+)", _l("expected a string, got %(got)s")),
        (r"expected a non-empty string", _l("expected a non-empty string")),
        (r"expected a non-empty string or \{zh, en\}(?P<more>.*)",
         _l("expected a non-empty string, or one per language {zh, en}")),
        (r"expected a list", _l("expected a list")),
        (r"expected a non-empty list, got (?P<got>.+)",
         _l("expected a non-empty list, got %(got)s")),
        (r"expected a list of strings, got (?P<got>.+)",
         _l("expected a list of strings, got %(got)s")),
        (r"expected a mapping", _l("expected a mapping")),
        (r"expected a mapping with keys: (?P<keys>.+)",
         _l("expected a mapping with keys: %(keys)s")),
        (r"expected a mapping at the top of the file",
         _l("expected a mapping at the top of the file")),
        (r"expected at least (?P<n>\d+) item\(s\)", _l("expected at least %(n)s item(s)")),
        (r"expected at least (?P<n>\d+) variants to compare",
         _l("expected at least %(n)s variants to compare")),
        (r"expected one of:? (?P<choices>.+), got (?P<got>.+)",
         _l("expected one of %(choices)s, got %(got)s")),
        (r"expected true or false, got (?P<got>.+)", _l("expected true or false, got %(got)s")),
        (r"expected an id of \[a-z0-9_-\]\+", _l("expected an id of [a-z0-9_-]+")),
        (r"expected a duration like (?P<like>.+), got (?P<got>.+)",
         _l("expected a duration like %(like)s, got %(got)s")),
        (r"expected a date YYYY-MM-DD, got (?P<got>.+)",
         _l("expected a date YYYY-MM-DD, got %(got)s")),
        (r"expected YYYY-MM-DD or an ISO timestamp, got (?P<got>.+)",
         _l("expected YYYY-MM-DD or an ISO timestamp, got %(got)s")),
        (r"timestamp (?P<got>.+) is out of range: expected a year between (?P<first>\d+) and "
         r"(?P<last>\d+)", _l("timestamp %(got)s is out of range: expected a year between "
                              "%(first)s and %(last)s")),
        (r"a draft has at most (?P<n>[\d,]+) characters",
         _l("a draft has at most %(n)s characters")),
        (r"invalid YAML: (?P<detail>.+)", _l("invalid YAML: %(detail)s")),
        (r"expected exactly one of 'schedule' .*",
         _l("expected exactly one of 'schedule' (a cron string), 'event' (an event type) or "
            "'contact' (a list of contact channels)")),
        (r"expected a cron string 'minute hour day month weekday' like '0 9 \* \* \*': "
         r"(?P<why>.+)", _l("expected a cron string 'minute hour day month weekday' like "
                            "'0 9 * * *': %(why)s")),
        (r"expected (?P<n>\d+) fields, got (?P<got>\d+)",
         _l("expected %(n)s fields, got %(got)s")),
        (r"(?P<field>[a-z ]+) field (?P<got>'[^']*'): expected values in (?P<keys>.+)",
         _l("%(field)s field %(got)s: expected values in %(keys)s")),
        (r"(?P<field>[a-z ]+) field (?P<got>'[^']*'): expected numbers or names with .*",
         _l("%(field)s field %(got)s: expected numbers or names with '*', ',', '-' and '/'")),
        (r"(?P<field>[a-z ]+) field (?P<got>'[^']*'): range (?P<range>\S+) runs backwards",
         _l("%(field)s field %(got)s: the range %(range)s runs backwards")),
        (r"it never fires \(no date matches it\)", _l("it never fires (no date matches it)")),
        (r"a condition is a mapping with exactly one key: all, any, not, or a field name",
         _l("a condition is a mapping with exactly one key: all, any, not, or a field name")),
        (r"'(?P<name>all|any)' needs a non-empty list of conditions",
         _l("'%(name)s' needs a non-empty list of conditions")),
        (f"{_NAME} needs a mapping of operators, e.g. {{eq: ...}}",
         _l("'%(name)s' needs a mapping of operators, e.g. {eq: ...}")),
        (r"low (?P<low>.+) is greater than high (?P<high>.+)",
         _l("the low end %(low)s is greater than the high end %(high)s")),
        (r"(?P<keys>audience|exclude|audience and exclude): condition is too large for the "
         r"event engine: (?P<n>\d+) nested all/any/not groups in one alternative \(at most "
         r"(?P<max>\d+)\)", _l("%(keys)s: the condition is too large for the event engine: "
                              "%(n)s nested all/any/not groups in one alternative (at most "
                              "%(max)s)")),
        (f"contact channel {_NAME} is listed twice",
         _l("the contact channel '%(name)s' is listed twice")),
        (f"duplicate step id {_NAME} \\(first at line (?P<line>\\d+)\\): expected ids unique "
         r"within the playbook", _l("duplicate step id '%(name)s' (first at line %(line)s): "
                                    "expected ids unique within the playbook")),
        (f"duplicate variant name {_NAME} \\(first at line (?P<line>\\d+)\\): expected names "
         r"unique within the step", _l("duplicate variant name '%(name)s' (first at line "
                                       "%(line)s): expected names unique within the step")),
        (r"only one step may carry variants \(step (?P<step>\d+) at line (?P<line>\d+) does\): "
         r"a ticket compares one set of alternatives",
         _l("only one step may carry variants (step %(step)s at line %(line)s does): a ticket "
            "compares one set of alternatives")),
        (f"unknown field {_NAME} \\(known: (?P<known>.+)\\)",
         _l("unknown field '%(name)s' (known fields: %(known)s)")),
        (f"unknown field {_NAME}: event fields exist only in event-triggered playbooks.*",
         _l("unknown field '%(name)s': event fields exist only in event-triggered playbooks")),
        (f"unknown workflow {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _l("unknown workflow '%(name)s' (expected one of: %(known)s)")),
        (f"unknown channel {_NAME} \\(expected one of the channels in (?P<known>.+)\\)",
         _l("unknown channel '%(name)s' (expected one of the channels in %(known)s)")),
        (f"unknown contact channel {_NAME} \\(expected one of the contact_channels of "
         r"(?P<known>.+)\)", _l("unknown contact channel '%(name)s' (expected one of the "
                                "contact_channels of %(known)s)")),
        (r"(?:unknown operator|operator not allowed) '(?P<op>[^']+)' for (?P<type>\w+) field "
         r"'(?P<name>[^']+)' \(expected one of: (?P<known>.+)\)",
         _l("unknown operator '%(op)s' for the %(type)s field '%(name)s' (expected one of: "
            "%(known)s)")),
        (f"unknown event type {_NAME} \\(expected one of the events in (?P<known>.+)\\)",
         _l("unknown event type '%(name)s' (expected one of the events in %(known)s)")),
        (f"unknown (?:tier|tiers) {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _l("unknown tier '%(name)s' (expected one of: %(known)s)")),
        (f"unknown stage {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _l("unknown lifecycle stage '%(name)s' (expected one of: %(known)s)")),
        (f"unknown offer {_NAME} \\(expected one of the offers in (?P<known>.+)\\)",
         _l("unknown offer '%(name)s' (expected one of the offers in %(known)s)")),
        (f"unknown owner {_NAME}: expected a team declared under `teams:` in (?P<known>.+) or "
         r"a member of one", _l("unknown owner '%(name)s': expected a team declared under "
                                "teams: in %(known)s, or a member of one")),
        (f"workflow {_NAME} is standing: expected an event-triggered or contact-triggered "
         r"playbook or a workflow with standing: false",
         _l("the workflow '%(name)s' is standing: expected an event-triggered or "
            "contact-triggered playbook, or a workflow with standing: false")),
        (f"workflow {_NAME} is not standing: a contact-triggered playbook enters customers one "
         r"contact at a time on a standing ticket \(expected a workflow with standing: true, "
         r"such as (?P<keys>.+)\)",
         _l("the workflow '%(name)s' is not standing: a contact-triggered playbook enters "
            "customers one contact at a time on a standing ticket (expected a workflow with "
            "standing: true, such as %(keys)s)")),
        (r"warning: step '(?P<step>[^']+)' can never send: the cap '(?P<cap>[^']+)' of "
         r"(?P<config>\S+) allows no (?P<channel>\S+) contact",
         _l("warning: step '%(step)s' can never send: the cap '%(cap)s' of %(config)s allows "
            "no %(channel)s contact")),
        (r"warning: step '(?P<step>[^']+)' makes up to (?P<most>\d+) (?P<channel>\S+) contacts "
         r"within (?P<per>\S+) \(1 send \+ (?P<times>\d+) retries (?P<apart>\S+) apart\), but "
         r"the cap '(?P<cap>[^']+)' of (?P<config>\S+) allows (?P<max>\d+): the last "
         r"(?P<n>\d+) can never be sent \(suppressed by frequency_cap\); .*",
         _l("warning: step '%(step)s' makes up to %(most)s %(channel)s contacts within "
            "%(per)s (1 send + %(times)s retries %(apart)s apart), but the cap '%(cap)s' of "
            "%(config)s allows %(max)s: the last %(n)s can never be sent (suppressed: "
            "contacted often enough); retry fewer times, or at least %(per)s apart, or change "
            "the cap")),
    ))
# Words inside a shape's values: cron fields and field types (engine.playbooks.schedule,
# engine.formats.values).
VALUE_WORDS: dict[str, dict[str, LazyString]] = {
    "field": {"minute": _l("minute"), "hour": _l("hour"), "day of month": _l("day of month"),
              "month": _l("month"), "day of week": _l("day of week")},
    "type": {"number": _l("number"), "string": _l("text"), "date": _l("date"),
             "bool": _l("true/false"), "list": _l("list")},
}


# Parameters that name or list what a place accepts (keys, fields, channels, a cap, the config
# file, the YAML parser's own words): code, the same in every language, shown as code so a
# Chinese sentence does not read as half English.
CODE_LISTS = frozenset({"keys", "known", "detail", "channel", "cap", "config"})


def problem_words(message: str) -> Markup:
    """`message` (an engine problem, maybe `path: ...`) in the reader's language; the path
    into the YAML is code (`<code>steps.0.channel</code>`), the same in every language."""
    locale = get_locale()
    path, rest = "", message
    if (found := _PATH.match(message)) and not _whole(message):
        path, rest = found.group("path"), found.group("rest")
    spelled: str = rest
    if locale is not None and locale.language != "en":
        spelled = _spelled(rest)
    if not path:
        return Markup("{}").format(spelled)
    return Markup("<code>{}</code>: {}").format(path, spelled)


def known(message: str) -> bool:
    """Whether a message has a shape here (so a Chinese reader gets it in Chinese)."""
    path_found = _PATH.match(message)
    rest = path_found.group("rest") if path_found and not _whole(message) else message
    return _sentence(_HINT.sub("", rest)) is not None


def _spelled(text: str) -> str:
    """`text` worded from the catalog (its hint too), or as it is when no shape fits."""
    hint = _HINT.search(text)
    bare = _HINT.sub("", text)
    found = _sentence(bare)
    if found is None:
        return text
    shape, sentence = found
    match = shape.match(bare)
    assert match is not None
    words = Markup(str(sentence)) % {
        name: _value(name, value) for name, value in match.groupdict().items()}
    if hint:
        words += Markup(str(_l(" — did you mean %(close)s?"))) % {"close": hint.group("close")}
    return words


def _value(name: str, value: str) -> Any:
    """A shape's value as the sentence shows it: lists of names as code, a nested problem
    (a cron string's reason) worded too, cron fields and field types in words."""
    if name in CODE_LISTS:
        return Markup("<code>{}</code>").format(value)
    if name == "why":
        return _spelled(value)
    if name in VALUE_WORDS and value in VALUE_WORDS[name]:
        return str(VALUE_WORDS[name][value])
    return value


def _sentence(text: str) -> tuple[re.Pattern[str], LazyString] | None:
    return next(((shape, sentence) for shape, sentence in SHAPES if shape.match(text)), None)


def _whole(message: str) -> bool:
    """A message whose start only looks like `path:` (`unknown field 'x': ...`)."""
    return _sentence(_HINT.sub("", message)) is not None
