"""Playbooks (rules/*.yaml): the model a designer's file becomes, its vocabulary (result
statuses, routes, units), and what makes a version: the content hash and the rule that a used
(id, version) keeps its content. engine/playbooks/playbook_loader.py reads and checks the files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.errors import Problem
from engine.formats.source import load_yaml, plain
from engine.formats.values import CONDITION_UNITS
from engine.language.condition import All, Condition, Not
from engine.playbooks.variant import Variant
from engine.tasks.policy import SALES

RESULT_STATUSES = ("delivered", "failed", "no_answer", "connected", "accepted", "declined",
                   "converted")
ROUTES = ("pool", "manager")
UNLESS = ("converted",)
COOLDOWN_UNITS = CONDITION_UNITS  # entries are counted in days, like condition windows
GOAL_UNITS = "hdw"                # a goal window runs from an instant, so hours make sense
MAX_VERSION = 2**31 - 1
TITLE_LANGUAGES = ("zh", "en")  # the console's languages; offers' titles use the same


@dataclass(frozen=True)
class Retry:
    on: tuple[str, ...]
    times: int
    after: dt.timedelta


@dataclass(frozen=True)
class Step:
    id: str
    channel: str
    route: str
    template: str
    params: Mapping[str, Any]
    when: Condition | None
    retry: Retry | None
    delay: dt.timedelta
    unless: str | None
    offers: tuple[str, ...] = ()  # offer ids (rules/offers/), best first
    variants: tuple[Variant, ...] = ()  # champion/challenger split (engine/playbooks/variant.py)


@dataclass(frozen=True)
class Trigger:
    schedule: str | None
    event: str | None
    contact: tuple[str, ...] = ()  # contact channels (engine/playbooks/contact_trigger.py)


@dataclass(frozen=True)
class Goal:
    event: str
    within: dt.timedelta


@dataclass(frozen=True)
class Playbook:
    id: str
    title: str
    version: int
    owner: str | None
    priority: int
    trigger: Trigger
    audience: Condition
    exclude: Condition | None
    holdout: float
    cooldown: dt.timedelta | None
    workflow: str
    steps: tuple[Step, ...]
    goal: Goal | None
    file: str
    text: str
    hash: str
    contact_class: str = SALES  # `class:`: care and service are never crowded out (policy)
    # `title: {zh: ..., en: ...}` as (language, text) pairs; empty for a plain-string title,
    # which reads the same in every language.
    titles: tuple[tuple[str, str], ...] = ()

    def title_in(self, lang: str) -> str:
        """The title in `lang` when the playbook gives one, else `title` (English)."""
        return dict(self.titles).get(lang) or self.title

    @property
    def selector(self) -> Condition:
        """Who the playbook matches: audience true and exclude false, as one condition."""
        if self.exclude is None:
            return self.audience
        return All((self.audience, Not(self.exclude)))


def content_hash(document: Any) -> str:
    """sha256 of the parsed YAML document as canonical JSON.

    The parsed document rather than the text, so that comments, quoting, key order, flow or
    block style and indentation do not count as a change; any value written differently does.
    Canonical JSON: keys sorted, no whitespace, UTF-8; dates and timestamps stay the text they
    were written as (the YAML loader keeps them as text); numbers as YAML parsed them.
    """
    canonical = json.dumps(plain(document), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Versioned(Protocol):
    """What a version check needs of a playbook or an offer."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def file(self) -> str: ...


def check_versions(items: Iterable[Versioned], known: Mapping[tuple[str, int], str],
                   kind: str = "playbook") -> list[Problem]:
    """Playbooks (or offers, `kind`) whose (id, version) was used before with other content:
    `known` maps to hashes."""
    problems = []
    for item in items:
        used = known.get((item.id, item.version))
        if used is not None and used != item.hash:
            source = load_yaml(item.text, item.file)
            problems.append(source.at(["version"], (
                f"version {item.version} of {kind} {item.id!r} is already in use with "
                f"different content: bump the version")))
    return problems
