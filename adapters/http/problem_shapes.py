"""The shapes of the engine's problems and their sentences, for every reader's language.

The engine words its problems in English (logs, the API) and names the values in them:
`steps.0.route: expected one of: pool, manager, got 'boss'`. Each common shape of message
has a sentence in the console's catalog with the same values as parameters; the draft editor
(adapters/http/problem_words.py, flask-babel's catalog, values as `<code>`) and `tend
validate` / `tend test` (adapters/cli/words.py, a loaded catalog, plain text) word them
from this one table. A message of no known shape stays as the engine wrote it: never lost,
only untranslated (and the English is precise).

Pure: no Flask, no request; the caller hands over how to look a sentence up and how to show
a code.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _(text: str) -> str:
    """Marks a msgid for `pybabel extract`; the caller looks the sentence up when it words."""
    return text


_PATH = re.compile(r"^(?P<path>[A-Za-z_][\w.\[\]-]*): (?P<rest>.+)$", re.DOTALL)
# engine.language.suggest's " — did you mean 'x'?" (or 'x' or 'y'), worded apart from its sentence.
_HINT = re.compile(r" — did you mean (?P<close>'[^']*'(?: or '[^']*')*)\?")
_NAME = r"'(?P<name>[^']*)'"
# (shape, sentence): the shape's named groups are the sentence's parameters. First match wins.
# Every shape the draft checks produce (parse_playbook, the `at` field, the policy warnings)
# is here: tests/unit/http/test_problem_words.py walks the bad fixtures and generated bad drafts.
SHAPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{shape}$", re.DOTALL), sentence) for shape, sentence in (
        (r"this key is required", _("this key is required")),
        (r"is empty \(expected a value\)", _("is empty (expected a value)")),
        (r"field may not be null", _("is empty (expected a value)")),
        (r"unknown key \(expected one of: (?P<keys>.+)\)",
         _("unknown key (expected one of: %(keys)s)")),
        (r"expected an integer, got (?P<got>.+)", _("expected an integer, got %(got)s")),
        (r"expected a positive integer, got (?P<got>.+)",
         _("expected a positive integer, got %(got)s")),
        (r"expected a positive integer of at most (?P<max>\d+), got (?P<got>.+)",
         _("expected a positive integer of at most %(max)s, got %(got)s")),
        (r"expected a number, got (?P<got>.+)", _("expected a number, got %(got)s")),
        (r"expected a positive number, got (?P<got>.+)",
         _("expected a positive number, got %(got)s")),
        (r"expected (?P<n>\d+) or more, got (?P<got>.+)",
         _("expected %(n)s or more, got %(got)s")),
        (r"expected 0 ≤ holdout < 1, got (?P<got>.+)",
         _("expected 0 ≤ holdout < 1, got %(got)s")),
        (r"expected a string, got (?P<got>.+)", _("expected a string, got %(got)s")),
        (r"expected a non-empty string", _("expected a non-empty string")),
        (r"expected a non-empty string or \{zh, en\}(?P<more>.*)",
         _("expected a non-empty string, or one per language {zh, en}")),
        (r"expected a list", _("expected a list")),
        (r"expected a non-empty list, got (?P<got>.+)",
         _("expected a non-empty list, got %(got)s")),
        (r"expected a list of strings, got (?P<got>.+)",
         _("expected a list of strings, got %(got)s")),
        (r"expected a mapping", _("expected a mapping")),
        (r"expected a mapping with keys: (?P<keys>.+)",
         _("expected a mapping with keys: %(keys)s")),
        (r"expected a mapping at the top of the file",
         _("expected a mapping at the top of the file")),
        (r"expected at least (?P<n>\d+) item\(s\)", _("expected at least %(n)s item(s)")),
        (r"expected at least (?P<n>\d+) variants to compare",
         _("expected at least %(n)s variants to compare")),
        (r"expected one of:? (?P<choices>.+), got (?P<got>.+)",
         _("expected one of %(choices)s, got %(got)s")),
        (r"expected true or false, got (?P<got>.+)", _("expected true or false, got %(got)s")),
        (r"expected an id of \[a-z0-9_-\]\+", _("expected an id of [a-z0-9_-]+")),
        (r"expected a duration like (?P<like>.+), got (?P<got>.+)",
         _("expected a duration like %(like)s, got %(got)s")),
        (r"expected a date YYYY-MM-DD, got (?P<got>.+)",
         _("expected a date YYYY-MM-DD, got %(got)s")),
        (r"expected YYYY-MM-DD or an ISO timestamp, got (?P<got>.+)",
         _("expected YYYY-MM-DD or an ISO timestamp, got %(got)s")),
        (r"timestamp (?P<got>.+) is out of range: expected a year between (?P<first>\d+) and "
         r"(?P<last>\d+)", _("timestamp %(got)s is out of range: expected a year between "
                             "%(first)s and %(last)s")),
        (r"a draft has at most (?P<n>[\d,]+) characters",
         _("a draft has at most %(n)s characters")),
        (r"invalid YAML: (?P<detail>.+)", _("invalid YAML: %(detail)s")),
        (r"expected exactly one of 'schedule' .*",
         _("expected exactly one of 'schedule' (a cron string), 'event' (an event type) or "
           "'contact' (a list of contact channels)")),
        (r"expected a cron string 'minute hour day month weekday' like '0 9 \* \* \*': "
         r"(?P<why>.+)", _("expected a cron string 'minute hour day month weekday' like "
                           "'0 9 * * *': %(why)s")),
        (r"expected (?P<n>\d+) fields, got (?P<got>\d+)",
         _("expected %(n)s fields, got %(got)s")),
        (r"(?P<field>[a-z ]+) field (?P<got>'[^']*'): expected values in (?P<keys>.+)",
         _("%(field)s field %(got)s: expected values in %(keys)s")),
        (r"(?P<field>[a-z ]+) field (?P<got>'[^']*'): expected numbers or names with .*",
         _("%(field)s field %(got)s: expected numbers or names with '*', ',', '-' and '/'")),
        (r"(?P<field>[a-z ]+) field (?P<got>'[^']*'): range (?P<range>\S+) runs backwards",
         _("%(field)s field %(got)s: the range %(range)s runs backwards")),
        (r"it never fires \(no date matches it\)", _("it never fires (no date matches it)")),
        (r"a condition is a mapping with exactly one key: all, any, not, or a field name",
         _("a condition is a mapping with exactly one key: all, any, not, or a field name")),
        (r"'(?P<name>all|any)' needs a non-empty list of conditions",
         _("'%(name)s' needs a non-empty list of conditions")),
        (f"{_NAME} needs a mapping of operators, e.g. {{eq: ...}}",
         _("'%(name)s' needs a mapping of operators, e.g. {eq: ...}")),
        (r"low (?P<low>.+) is greater than high (?P<high>.+)",
         _("the low end %(low)s is greater than the high end %(high)s")),
        (r"(?P<keys>audience|exclude|audience and exclude): condition is too large for the "
         r"event engine: (?P<n>\d+) nested all/any/not groups in one alternative \(at most "
         r"(?P<max>\d+)\)", _("%(keys)s: the condition is too large for the event engine: "
                              "%(n)s nested all/any/not groups in one alternative (at most "
                              "%(max)s)")),
        (f"contact channel {_NAME} is listed twice",
         _("the contact channel '%(name)s' is listed twice")),
        (f"duplicate step id {_NAME} \\(first at line (?P<line>\\d+)\\): expected ids unique "
         r"within the playbook", _("duplicate step id '%(name)s' (first at line %(line)s): "
                                   "expected ids unique within the playbook")),
        (f"duplicate variant name {_NAME} \\(first at line (?P<line>\\d+)\\): expected names "
         r"unique within the step", _("duplicate variant name '%(name)s' (first at line "
                                      "%(line)s): expected names unique within the step")),
        (r"only one step may carry variants \(step (?P<step>\d+) at line (?P<line>\d+) does\): "
         r"a ticket compares one set of alternatives",
         _("only one step may carry variants (step %(step)s at line %(line)s does): a ticket "
           "compares one set of alternatives")),
        (f"unknown field {_NAME} \\(known: (?P<known>.+)\\)",
         _("unknown field '%(name)s' (known fields: %(known)s)")),
        (f"unknown field {_NAME}: event fields exist only in event-triggered playbooks.*",
         _("unknown field '%(name)s': event fields exist only in event-triggered playbooks")),
        (f"unknown workflow {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _("unknown workflow '%(name)s' (expected one of: %(known)s)")),
        (f"unknown channel {_NAME} \\(expected one of the channels in (?P<known>.+)\\)",
         _("unknown channel '%(name)s' (expected one of the channels in %(known)s)")),
        (f"unknown contact channel {_NAME} \\(expected one of the contact_channels of "
         r"(?P<known>.+)\)", _("unknown contact channel '%(name)s' (expected one of the "
                               "contact_channels of %(known)s)")),
        (r"(?:unknown operator|operator not allowed) '(?P<op>[^']+)' for (?P<type>\w+) field "
         r"'(?P<name>[^']+)' \(expected one of: (?P<known>.+)\)",
         _("unknown operator '%(op)s' for the %(type)s field '%(name)s' (expected one of: "
           "%(known)s)")),
        (f"unknown event type {_NAME} \\(expected one of the events in (?P<known>.+)\\)",
         _("unknown event type '%(name)s' (expected one of the events in %(known)s)")),
        (f"unknown (?:tier|tiers) {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _("unknown tier '%(name)s' (expected one of: %(known)s)")),
        (f"unknown stage {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _("unknown lifecycle stage '%(name)s' (expected one of: %(known)s)")),
        (f"unknown offer {_NAME} \\(expected one of the offers in (?P<known>.+)\\)",
         _("unknown offer '%(name)s' (expected one of the offers in %(known)s)")),
        (f"unknown owner {_NAME}: expected a team declared under `teams:` in (?P<known>.+) or "
         r"a member of one", _("unknown owner '%(name)s': expected a team declared under "
                               "teams: in %(known)s, or a member of one")),
        (f"workflow {_NAME} is standing: expected an event-triggered or contact-triggered "
         r"playbook or a workflow with standing: false",
         _("the workflow '%(name)s' is standing: expected an event-triggered or "
           "contact-triggered playbook, or a workflow with standing: false")),
        (f"workflow {_NAME} is not standing: a contact-triggered playbook enters customers one "
         r"contact at a time on a standing ticket \(expected a workflow with standing: true, "
         r"such as (?P<keys>.+)\)",
         _("the workflow '%(name)s' is not standing: a contact-triggered playbook enters "
           "customers one contact at a time on a standing ticket (expected a workflow with "
           "standing: true, such as %(keys)s)")),
        (r"warning: step '(?P<step>[^']+)' can never send: the cap '(?P<cap>[^']+)' of "
         r"(?P<config>\S+) allows no (?P<channel>\S+) contact",
         _("warning: step '%(step)s' can never send: the cap '%(cap)s' of %(config)s allows "
           "no %(channel)s contact")),
        (r"warning: step '(?P<step>[^']+)' makes up to (?P<most>\d+) (?P<channel>\S+) contacts "
         r"within (?P<per>\S+) \(1 send \+ (?P<times>\d+) retries (?P<apart>\S+) apart\), but "
         r"the cap '(?P<cap>[^']+)' of (?P<config>\S+) allows (?P<max>\d+): the last "
         r"(?P<n>\d+) can never be sent \(suppressed by frequency_cap\); .*",
         _("warning: step '%(step)s' makes up to %(most)s %(channel)s contacts within "
           "%(per)s (1 send + %(times)s retries %(apart)s apart), but the cap '%(cap)s' of "
           "%(config)s allows %(max)s: the last %(n)s can never be sent (suppressed: "
           "contacted often enough); retry fewer times, or at least %(per)s apart, or change "
           "the cap")),
        # casebooks (rules/tests/*.yaml, engine/playbooks/casebook.py)
        (f"unknown playbook {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _("unknown playbook '%(name)s' (expected one of: %(known)s)")),
        (f"unknown customer {_NAME} \\(expected one of this case's customers: (?P<known>.*)\\)",
         _("unknown customer '%(name)s' (expected one of this case's customers: %(known)s)")),
        (f"unknown customer field {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _("unknown customer field '%(name)s' (expected one of: %(known)s)")),
        (f"{_NAME} is computed at evaluation time: set (?P<source>.+) instead",
         _("'%(name)s' is computed at evaluation time: set %(source)s instead")),
        (f"duplicate customer id {_NAME}", _("duplicate customer id '%(name)s'")),
        (f"customer needs {_NAME} \\(a required column\\)",
         _("the customer needs '%(name)s' (a required column)")),
        (r"expected a customer: a mapping like \{id: c1, joined_on: 2024-01-01\}",
         _("expected a customer: a mapping like {id: c1, joined_on: 2024-01-01}")),
        (f"unknown channel {_NAME} \\(expected one of: (?P<known>.+)\\)",
         _("unknown channel '%(name)s' (expected one of: %(known)s)")),
        (f"unknown step {_NAME} \\(expected one of: (?P<known>.*)\\)",
         _("unknown step '%(name)s' (expected one of: %(known)s)")),
        (f"playbook {_NAME} runs on a schedule: expected no events",
         _("the playbook '%(name)s' runs on a schedule: expected no events")),
        (f"expected {_NAME}, the playbook's trigger event",
         _("expected '%(name)s', the playbook's trigger event")),
        (f"unknown data field {_NAME} of event '(?P<event>[^']*)' \\(expected one of: "
         r"(?P<known>.+)\)", _("unknown data field '%(name)s' of the event '%(event)s' "
                               "(expected one of: %(known)s)")),
        # workflows (workflows/*.yaml, engine/playbooks/workflow.py)
        (f"unknown role {_NAME} \\(expected a role listed under roles: in (?P<config>\\S+): "
         r"(?P<known>.+)\)", _("unknown role '%(name)s' (expected a role listed under roles: "
                               "in %(config)s: %(known)s)")),
        (r"expected level (?P<n>\d+): levels are numbered 1, 2, \.\.\. in the order they "
         r"approve", _("expected level %(n)s: levels are numbered 1, 2, ... in the order "
                       "they approve")),
        (r"level 1 approves every ticket: it takes no 'when'",
         _("level 1 approves every ticket: it takes no 'when'")),
        # offers (rules/offers/*.yaml, engine/playbooks/offer.py)
        (r"unknown field \{(?P<name>[^}]*)\} in the script \(expected customer fields: "
         r"(?P<known>.+)\)", _("unknown field {%(name)s} in the script (expected customer "
                               "fields: %(known)s)")),
        (r"valid\.until (?P<until>\S+) is before valid\.from (?P<from>\S+): expected until "
         r"≥ from", _("valid.until %(until)s is before valid.from %(from)s: expected "
                      "until ≥ from")),
        # any file of the library (engine/playbooks/library.py)
        (r"expected a playbook \(a 'playbook:' key\), a workflow \('workflow:'\), an offer "
         r"\('offer:'\) or test cases \('cases:'\)",
         _("expected a playbook (a 'playbook:' key), a workflow ('workflow:'), an offer "
           "('offer:') or test cases ('cases:')")),
        (r"no such file or folder", _("no such file or folder")),
        (r"cannot read: (?P<detail>.+)", _("cannot read: %(detail)s")),
        (f"duplicate (?P<kind>playbook|workflow|offer) id {_NAME}: also in (?P<place>.+) "
         r"\(expected ids unique across files\)",
         _("duplicate %(kind)s id '%(name)s': also in %(place)s (expected ids unique across "
           "files)")),
    ))
# Words inside a shape's values: cron fields and field types (engine.playbooks.schedule,
# engine.formats.values).
VALUE_WORDS: dict[str, dict[str, str]] = {
    "field": {"minute": _("minute"), "hour": _("hour"), "day of month": _("day of month"),
              "month": _("month"), "day of week": _("day of week")},
    "type": {"number": _("number"), "string": _("text"), "date": _("date"),
             "bool": _("true/false"), "list": _("list")},
    # what a casebook sets instead of a computed field (engine.playbooks.casebook.COMPUTED_FROM)
    "source": {"the fields its lifecycle conditions use":
               _("the fields its lifecycle conditions use")},
    "kind": {"playbook": _("playbook"), "workflow": _("workflow"), "offer": _("offer")},
}


# Parameters that name or list what a place accepts (keys, fields, channels, a cap, the config
# file, the YAML parser's own words): code, the same in every language, shown as code so a
# Chinese sentence does not read as half English.
CODE_LISTS = frozenset({"keys", "known", "detail", "channel", "cap", "config", "place"})


def split(message: str) -> tuple[str, str]:
    """`path: rest` into the YAML path (code, the same in every language) and the rest; no
    path when the start only looks like one (`unknown field 'x': ...`)."""
    found = _PATH.match(message)
    if found and not _whole(message):
        return found.group("path"), found.group("rest")
    return "", message


def known(message: str) -> bool:
    """Whether a message has a shape here (so a Chinese reader gets it in Chinese)."""
    return _sentence(_HINT.sub("", split(message)[1])) is not None


def spelled(text: str, gettext: Callable[[str], str], code: Callable[[str], str]) -> str:
    """`text` (a problem without its path) worded from the catalog by `gettext`, its hint
    too, or as it is when no shape fits. `gettext` may return markup (the console's pages):
    the values are then escaped by its `%`, and `code` shows a list of names as code."""
    hint = _HINT.search(text)
    bare = _HINT.sub("", text)
    found = _sentence(bare)
    if found is None:
        return text
    shape, sentence = found
    match = shape.match(bare)
    assert match is not None
    words = gettext(sentence) % {name: _value(name, value, gettext, code)
                                 for name, value in match.groupdict().items()}
    if hint:
        words += gettext(_(" — did you mean %(close)s?")) % {"close": hint.group("close")}
    return words


def _value(name: str, value: str, gettext: Callable[[str], str],
           code: Callable[[str], str]) -> str:
    """A shape's value as the sentence shows it: lists of names as code, a nested problem
    (a cron string's reason) worded too, cron fields and field types in words."""
    if name in CODE_LISTS:
        return code(value)
    if name == "why":
        return spelled(value, gettext, code)
    if name in VALUE_WORDS and value in VALUE_WORDS[name]:
        return str(gettext(VALUE_WORDS[name][value]))
    return value


def _sentence(text: str) -> tuple[re.Pattern[str], str] | None:
    return next(((shape, sentence) for shape, sentence in SHAPES if shape.match(text)), None)


def _whole(message: str) -> bool:
    """A message whose start only looks like `path:` (`unknown field 'x': ...`)."""
    return _sentence(_HINT.sub("", message)) is not None
