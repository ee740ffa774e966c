"""Designer test cases (rules/tests/*.yaml): given customers at a time, who does a playbook take?

A case names customers (the section 3 fields, typed and checked like an import), optionally
events and earlier entries, and the expected outcome per group. Cases run on the plain
evaluator and on `select_members`, the same selection every backend uses, so a passing case
says what a sweep would do with those customers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields

from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.formats.blocks import EXPECTED_MAPPING, Format, listing
from engine.formats.schemas import Text, load_checked
from engine.formats.source import PathKey, Source, plain
from engine.formats.values import FieldType, coerce, parse_instant
from engine.language.fields import CUSTOMER_FIELDS
from engine.playbooks.playbook import Playbook

GROUPS = ("matched", "selected", "skipped", "excluded", "treatment", "control")
REASONS = ("cooldown", "opted_out")
COMPUTED_FROM = {"tier": "arpu", "tenure_days": "joined_on", "days_to_birthday": "birthday",
                 "stage": "the fields its lifecycle conditions use"}


class _SuppressedSchema(Format):
    cooldown = listing(Text())
    opted_out = listing(Text())


class _ExpectSchema(Format):
    matched = listing(Text())
    selected = listing(Text())
    skipped = listing(Text())
    excluded = listing(Text())
    treatment = listing(Text())
    control = listing(Text())
    suppressed = fields.Nested(_SuppressedSchema)
    steps = fields.Dict(keys=Text(), values=listing(Text()), error_messages=EXPECTED_MAPPING)


class _EventSchema(Format):
    customer_id = Text(required=True)
    type = Text()
    at = fields.Raw()
    id = Text()
    data = fields.Dict(keys=Text(), error_messages=EXPECTED_MAPPING)


class _CaseSchema(Format):
    name = Text(required=True)
    at = fields.Raw(required=True)
    customers = listing(fields.Raw(), min_items=1, required=True)
    entered = fields.Dict(keys=Text(), error_messages=EXPECTED_MAPPING)
    events = listing(fields.Nested(_EventSchema))
    expect = fields.Nested(_ExpectSchema, required=True)


class _CasebookSchema(Format):
    playbook = Text(required=True)
    cases = listing(fields.Nested(_CaseSchema), min_items=1, required=True)


@dataclass(frozen=True)
class Expectation:
    """One expected group, e.g. `selected` or `suppressed.cooldown` or `steps.call`."""

    group: str
    ids: frozenset[str]
    line: int
    column: int


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    name: str
    playbook: Playbook
    at: dt.datetime
    customers: tuple[Mapping[str, Any], ...]
    events: tuple[Mapping[str, Any], ...]
    entered: Mapping[str, dt.datetime]
    expect: tuple[Expectation, ...]


def parse_cases(source: Source, playbooks: Mapping[str, Playbook],
                config: Config) -> list[Case]:
    """The cases of one file; raises ValidationError with every problem found in it."""
    problems: list[Problem] = []
    try:
        load_checked(_CasebookSchema(), source)
    except ValidationError as exc:
        problems.extend(exc.problems)
    doc = plain(source.root) if isinstance(source.root, dict) else {}
    reader = _Reader(source, config)
    name = doc.get("playbook")
    playbook = playbooks.get(name) if isinstance(name, str) else None
    if isinstance(name, str) and playbook is None:
        reader.fail(["playbook"], f"unknown playbook {name!r} (expected one of: "
                                  f"{', '.join(sorted(playbooks)) or 'none loaded'})")
    raw_cases = doc.get("cases")
    cases = []
    for i, raw in enumerate(raw_cases if isinstance(raw_cases, list) else []):
        if isinstance(raw, dict):
            case = reader.case(raw, ["cases", i], playbook)
            if case is not None:
                cases.append(case)
    problems.extend(reader.problems)
    if problems:
        raise ValidationError(problems)
    return cases


class _Reader:
    """Checks the parts structure alone cannot: customer fields, ids, events, instants."""

    def __init__(self, source: Source, config: Config) -> None:
        self.source, self.config = source, config
        self.problems: list[Problem] = []

    def fail(self, path: list[PathKey], message: str) -> None:
        self.problems.append(self.source.at(path, message))

    def instant(self, value: Any, path: list[PathKey]) -> dt.datetime | None:
        try:
            return parse_instant(value, self.config.timezone)
        except ValueError as exc:
            self.fail(path, str(exc))
            return None

    def case(self, raw: Mapping[str, Any], path: list[PathKey],
             playbook: Playbook | None) -> Case | None:
        before = len(self.problems)
        at = self.instant(raw.get("at"), [*path, "at"]) if "at" in raw else None
        customers = [self.customer(c, [*path, "customers", j])
                     for j, c in enumerate(_items(raw.get("customers")))]
        ids = [c["id"] for c in customers if c is not None and "id" in c]
        for j, cid in enumerate(ids):
            if cid in ids[:j]:
                self.fail([*path, "customers", j, "id"], f"duplicate customer id {cid!r}")
        entered = {}
        listed = raw.get("entered")
        for cid, when in (listed.items() if isinstance(listed, dict) else []):
            self.known(cid, ids, [*path, "entered", cid])
            entered[cid] = self.instant(when, [*path, "entered", cid])
        events = self.events(_items(raw.get("events")), [*path, "events"], ids, playbook, at)
        expect = self.expectations(raw.get("expect"), [*path, "expect"], ids, playbook)
        if len(self.problems) > before or playbook is None or at is None:
            return None
        return Case(self.source.file, self.source.at(path, "").line, str(raw.get("name")),
                    playbook, at, tuple(c for c in customers if c is not None), tuple(events),
                    {k: v for k, v in entered.items() if v is not None}, tuple(expect))

    def known(self, cid: Any, ids: list[str], path: list[PathKey]) -> None:
        if isinstance(cid, str) and cid not in ids:
            self.fail(path, f"unknown customer {cid!r} (expected one of this case's "
                            f"customers: {', '.join(dict.fromkeys(ids))})")

    def customer(self, raw: Any, path: list[PathKey]) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.fail(path, "expected a customer: a mapping like {id: c1, joined_on: 2024-01-01}")
            return None
        record: dict[str, Any] = {"attrs": {}}
        for key, value in raw.items():
            ftype = CUSTOMER_FIELDS.get(key) or self.config.attributes.get(key)
            if ftype is None:
                self.fail([*path, key], self.unknown_field(key))
            elif value is not None:
                parsed = self.value(key, value, ftype, [*path, key])
                target = record if key in CUSTOMER_FIELDS else record["attrs"]
                if parsed is not None:
                    target[key] = parsed
        for required in ("id", "joined_on"):
            if raw.get(required) is None:
                self.fail(path, f"customer needs {required!r} (a required column)")
        return record

    def unknown_field(self, key: str) -> str:
        if key in COMPUTED_FROM:
            return f"{key!r} is computed at evaluation time: set {COMPUTED_FROM[key]} instead"
        known = [*CUSTOMER_FIELDS, *self.config.attributes]
        return f"unknown customer field {key!r} (expected one of: {', '.join(known)})"

    def value(self, key: str, value: Any, ftype: FieldType, path: list[PathKey]) -> Any:
        try:
            if ftype is FieldType.LIST:
                if not isinstance(value, list):
                    raise ValueError(f"expected a list of strings, got {value!r}")
                items = tuple(sorted({coerce(item, ftype) for item in value}))
                allowed = (*self.config.channels, "all")
                wrong = [item for item in items if key == "opt_out" and item not in allowed]
                if wrong:
                    raise ValueError(f"unknown channel {wrong[0]!r} (expected one of: "
                                     f"{', '.join(allowed)})")
                return items
            return coerce(value, ftype)
        except ValueError as exc:
            self.fail(path, f"{key}: {exc}")
            return None

    def events(self, raws: list[Any], path: list[PathKey], ids: list[str],
               playbook: Playbook | None, at: dt.datetime | None) -> list[dict[str, Any]]:
        if raws and playbook is not None and playbook.trigger.event is None:
            self.fail(path, f"playbook {playbook.id!r} runs on a schedule: expected no events")
            return []
        trigger = playbook.trigger.event if playbook is not None else None
        out = []
        for k, raw in enumerate(raws):
            here = [*path, k]
            if not isinstance(raw, dict) or trigger is None:
                continue
            self.known(raw.get("customer_id"), ids, [*here, "customer_id"])
            kind = raw.get("type", trigger)
            if kind != trigger:
                self.fail([*here, "type"], f"expected {trigger!r}, the playbook's trigger event")
            when = self.instant(raw["at"], [*here, "at"]) if "at" in raw else at
            out.append({"id": raw.get("id", f"e{k + 1}"), "type": trigger,
                        "customer_id": raw.get("customer_id"), "at": when,
                        "data": self.event_data(raw.get("data") or {}, [*here, "data"],
                                                trigger)})
        return out

    def event_data(self, data: Any, path: list[PathKey], kind: str) -> dict[str, Any]:
        declared = self.config.events.get(kind, {})
        out = {}
        for key, value in (data.items() if isinstance(data, dict) else []):
            if key not in declared:
                self.fail([*path, key], f"unknown data field {key!r} of event {kind!r} "
                                        f"(expected one of: {', '.join(declared) or 'none'})")
            elif value is not None:
                out[key] = self.value(key, value, declared[key], [*path, key])
        return out

    def expectations(self, raw: Any, path: list[PathKey], ids: list[str],
                     playbook: Playbook | None) -> list[Expectation]:
        if not isinstance(raw, dict):
            return []
        groups: list[tuple[str, list[PathKey], Any]] = [
            (g, [*path, g], raw[g]) for g in GROUPS if g in raw]
        for parent in ("suppressed", "steps"):
            inner = raw.get(parent)
            if isinstance(inner, dict):
                groups.extend((f"{parent}.{k}", [*path, parent, k], v) for k, v in inner.items())
        step_ids = [step.id for step in playbook.steps] if playbook is not None else []
        out = []
        for group, here, listed in groups:
            if group.startswith("steps.") and playbook is not None \
                    and group[6:] not in step_ids:
                self.fail(here, f"unknown step {group[6:]!r} (expected one of: "
                                f"{', '.join(step_ids)})")
            listed = listed if isinstance(listed, list) else []
            for j, cid in enumerate(listed):
                self.known(cid, ids, [*here, j])
            members = [cid for cid in listed if isinstance(cid, str)]
            place = self.source.at(here, "")
            out.append(Expectation(group, frozenset(members), place.line, place.column))
        return out


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
