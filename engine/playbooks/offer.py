"""Offers (维系政策, rules/offers/*.yaml): what an agent or a web page may give a customer.

An offer is checked like a playbook, in the same two passes: marshmallow for the structure,
then what structure cannot judge (the `eligible` condition's fields and operators, the
customer fields its script names, its channels, its dates). Every problem is placed at
`file:line:column`, all of a file's problems at once. Versions and content hashes follow
the playbook rule (engine/playbooks/playbook.py: content_hash): one (id, version) names one content.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.formats.blocks import Format, listing
from engine.formats.schemas import IDENTIFIER, Integer, Number, Text, checked_parts
from engine.formats.source import Source, load_yaml
from engine.formats.values import parse_date
from engine.language.condition import Condition, Parser
from engine.language.suggest import did_you_mean
from engine.playbooks.playbook import MAX_VERSION, check_versions, content_hash

LANGUAGES = ("zh", "en")  # every string a person reads exists in both
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NONEMPTY = validate.Length(min=1, error="expected a non-empty string")


@dataclass(frozen=True)
class Offer:
    id: str
    version: int
    title: Mapping[str, str]           # language → text
    script: Mapping[str, str]          # language → text with {field} placeholders
    eligible: Condition
    channels: tuple[str, ...]
    valid_from: dt.date                # inclusive, a calendar date in the configured zone
    valid_until: dt.date               # inclusive
    limit: int | None
    cost: float | None
    file: str
    text: str
    hash: str

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_until


class _TextsSchema(Format):
    zh = Text(required=True, validate=_NONEMPTY)
    en = Text(required=True, validate=_NONEMPTY)


class _OfferSchema(Format):
    offer = Text(required=True, validate=IDENTIFIER)
    version = Integer(required=True, validate=[
        validate.Range(min=1, error="expected a positive integer, got {input}"),
        validate.Range(max=MAX_VERSION, error="expected a positive integer of at most {max}, "
                                              "got {input}")])
    title = fields.Nested(_TextsSchema, required=True)
    script = fields.Nested(_TextsSchema, required=True)
    eligible = fields.Raw(required=True)
    channels = listing(Text(), min_items=1, required=True)
    valid = fields.Raw(required=True)  # {from, until}: checked in _window (`from` is a keyword)
    limit = Integer(validate=validate.Range(min=1, max=MAX_VERSION,
                                            error="expected a positive integer, got {input}"))
    cost = Number(validate=validate.Range(min=0, error="expected 0 or more, got {input}"))


def offer_channels(config: Config) -> tuple[str, ...]:
    """Where an offer may be presented: the channels tasks go out on, and the contact
    channels where a customer comes to us (config.yaml `contact_channels:`)."""
    return tuple(dict.fromkeys((*config.channels, *config.contact_channels)))


def parse_offer(text: str, file: str, config: Config) -> Offer:
    """One offer file; raises ValidationError with every problem found in it."""
    return offer_from(load_yaml(text, file), text, config)


def offer_from(source: Source, text: str, config: Config) -> Offer:
    """`parse_offer` for YAML already loaded."""
    data, doc, problems = checked_parts(_OfferSchema(), source)
    problems.extend(_channel_problems(source, doc, config))
    problems.extend(_script_problems(source, doc, config))
    window = _window(source, doc, problems)
    eligible = None
    if doc.get("eligible") is not None:
        parser = Parser(source, config.catalog())
        eligible = parser.parse(doc["eligible"], ["eligible"])
        problems.extend(parser.problems)
    if problems:
        raise ValidationError(sorted(problems))
    assert eligible is not None and window is not None  # else a problem was raised
    return Offer(id=data["offer"], version=data["version"], title=dict(data["title"]),
                 script=dict(data["script"]), eligible=eligible,
                 channels=tuple(dict.fromkeys(data["channels"])), valid_from=window[0],
                 valid_until=window[1], limit=data.get("limit"), cost=data.get("cost"),
                 file=source.file, text=text, hash=content_hash(source.root))


def placeholders(script: str) -> list[str]:
    """The field names a script's `{field}` placeholders name, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(script)]


def _channel_problems(source: Source, doc: Mapping[str, Any], config: Config) -> list[Problem]:
    channels = doc.get("channels")
    known = offer_channels(config)
    return [source.at(["channels", i], f"unknown channel {name!r}"
                                       f"{did_you_mean(str(name), known)} (expected one of the "
                                       f"channels or contact_channels in {config.path}: "
                                       f"{', '.join(known) or 'none declared'})")
            for i, name in enumerate(channels if isinstance(channels, list) else [])
            if isinstance(name, str) and name not in known]


def _script_problems(source: Source, doc: Mapping[str, Any], config: Config) -> list[Problem]:
    """A placeholder naming no customer field would render as nothing in front of a
    customer: an error at the script's line, not a surprise on the phone."""
    script = doc.get("script")
    if not isinstance(script, dict):
        return []
    catalog = config.catalog()
    problems = []
    for lang in LANGUAGES:
        text = script.get(lang)
        for name in placeholders(text) if isinstance(text, str) else []:
            if catalog.type_of(name) is None:
                problems.append(source.at(["script", lang], (
                    f"unknown field {{{name}}} in the script (expected customer fields: "
                    f"{', '.join(catalog.known())})")))
    return problems


def _window(source: Source, doc: Mapping[str, Any],
            problems: list[Problem]) -> tuple[dt.date, dt.date] | None:
    valid = doc.get("valid")
    if valid is None:
        return None  # the structure pass says it is required
    if not isinstance(valid, dict):
        problems.append(source.at(["valid"], "valid: expected a mapping with keys: from, until"))
        return None
    for key in valid:
        if key not in ("from", "until"):
            problems.append(source.at(["valid", key], f"valid.{key}: unknown key (expected "
                                                      f"one of: from, until)"))
    days: dict[str, dt.date] = {}
    for key in ("from", "until"):
        if key not in valid:
            problems.append(source.at(["valid"], f"valid.{key}: this key is required"))
            continue
        try:
            days[key] = parse_date(valid[key])
        except ValueError as exc:
            problems.append(source.at(["valid", key], f"valid.{key}: {exc}"))
    if len(days) < 2:
        return None
    if days["until"] < days["from"]:
        problems.append(source.at(["valid", "until"], (
            f"valid.until {days['until']} is before valid.from {days['from']}: "
            f"expected until ≥ from")))
        return None
    return days["from"], days["until"]


def check_offer_versions(offers: Mapping[str, Offer],
                         known: Mapping[tuple[str, int], str]) -> list[Problem]:
    """Offers whose (id, version) was used before with other content: `known` maps to hashes."""
    return check_versions(offers.values(), known, "offer")
