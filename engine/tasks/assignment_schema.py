"""config.yaml's `assignment` section (划配 rules), read into engine.tasks.assignment's rules.

Tier and attribute names are checked by engine/config_loader.py, which knows them; every problem
names its place (file:line:col) like the rest of the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import fields, validate

from engine.errors import Problem
from engine.formats.schemas import Integer, Strict, Text
from engine.formats.source import Source
from engine.formats.values import FieldType
from engine.tasks.assignment import AssignmentRules, Rule

NAME = r"^[A-Za-z0-9_.-]+$"


class _RuleSchema(Strict):
    rule = Text(required=True, validate=validate.Regexp(NAME, error="expected [A-Za-z0-9_.-]+"))
    managers = fields.List(Text(validate=validate.Length(min=1, max=64)), required=True,
                           validate=validate.Length(min=1, error="expected at least one manager"))
    tiers = fields.List(Text(), validate=validate.Length(min=1, error="expected a tier"))
    where = fields.Dict(keys=Text(), values=fields.List(Text(), validate=validate.Length(
        min=1, error="expected a value")), validate=validate.Length(
        equal=1, error="expected one attribute and its values, like {region: [east]}"))


class AssignmentSchema(Strict):
    tolerance = Integer(load_default=0, validate=validate.Range(min=0, error="expected 0 or more"))
    rules = fields.List(fields.Nested(_RuleSchema), load_default=list)


def problems(source: Source, data: Mapping[str, Any], tiers: Sequence[str],
             attributes: Mapping[str, FieldType]) -> list[Problem]:
    """Unknown tiers, undeclared or non-string attributes, repeated rule names or managers."""
    found = []
    names: list[str] = []
    for i, rule in enumerate(data.get("rules", [])):
        at: list[str | int] = ["assignment", "rules", i]
        if rule["rule"] in names:
            found.append(source.at([*at, "rule"], f"duplicate rule {rule['rule']!r}"))
        names.append(rule["rule"])
        for j, tier in enumerate(rule.get("tiers", [])):
            if tier not in tiers:
                found.append(source.at([*at, "tiers", j], f"unknown tier {tier!r} "
                                       f"(expected one of: {', '.join(tiers)})"))
        for name in rule.get("where", {}):
            if attributes.get(name) is not FieldType.STRING:
                found.append(source.at([*at, "where", name],
                                       f"{name!r} is not a string attribute declared under "
                                       f"attributes: (declared: "
                                       f"{', '.join(attributes) or 'none'})"))
        managers = rule["managers"]
        for j, manager in enumerate(managers):
            if managers.index(manager) != j:
                found.append(source.at([*at, "managers", j], f"manager {manager!r} listed twice"))
    return found


def build(data: Mapping[str, Any]) -> AssignmentRules:
    rules = []
    for raw in data.get("rules", []):
        where = raw.get("where", {})
        attribute, values = next(iter(where.items()), (None, []))
        rules.append(Rule(raw["rule"], tuple(raw["managers"]),
                          frozenset(raw["tiers"]) if "tiers" in raw else None,
                          attribute, frozenset(values)))
    return AssignmentRules(tuple(rules), data.get("tolerance", 0))
