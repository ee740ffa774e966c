"""Workflows (workflows/*.yaml): who approves a ticket, how fast, and when it is evaluated.

A level's `when` is a condition over facts of the ticket rather than of a customer, so a
two-level workflow can ask a director only for large or high-value campaigns. Those facts are
a small catalog of their own (`TICKET_FIELDS`), checked by the same condition parser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.formats.blocks import Format, choice, listing
from engine.formats.schemas import IDENTIFIER, Bool, Duration, Integer, Text, checked_parts
from engine.formats.source import Source, load_yaml
from engine.formats.values import FieldType
from engine.language.condition import Condition, Parser
from engine.language.evaluate import holds
from engine.language.fields import Catalog

EVALUATE_AFTER = ("goal",)
DEFAULT_SAMPLE = 20
TICKET_FIELDS: Mapping[str, FieldType] = {
    "audience_size": FieldType.NUMBER,  # treatment customers: the ones who will be contacted
    "tiers": FieldType.LIST,            # the tiers present among them
    "channels": FieldType.LIST,         # the channels of the playbook's steps
    "playbook": FieldType.STRING,       # the playbook id
}
# Ticket facts hold no dates, so any evaluation date gives the same answer.
_NO_DATE = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Level:
    level: int
    role: str
    when: Condition | None


@dataclass(frozen=True)
class Sla:
    approve: dt.timedelta
    execute: dt.timedelta


@dataclass(frozen=True)
class Workflow:
    id: str
    rehearsal_sample: int
    levels: tuple[Level, ...]
    sla: Sla
    evaluate_after: str
    standing: bool
    file: str


class _RehearsalSchema(Format):
    sample = Integer(load_default=DEFAULT_SAMPLE,
                     validate=validate.Range(min=0, error="expected 0 or more, got {input}"))


class _LevelSchema(Format):
    level = Integer(required=True)
    role = Text(required=True)
    when = fields.Raw()


class _SlaSchema(Format):
    approve = Duration(required=True)
    execute = Duration(required=True)


class _WorkflowSchema(Format):
    workflow = Text(required=True, validate=IDENTIFIER)
    rehearsal = fields.Nested(_RehearsalSchema, load_default=lambda: {"sample": DEFAULT_SAMPLE})
    approve = listing(fields.Nested(_LevelSchema), min_items=1, required=True)
    sla = fields.Nested(_SlaSchema, required=True)
    evaluate_after = Text(load_default="goal", validate=choice(EVALUATE_AFTER))
    standing = Bool(load_default=False)


def ticket_catalog(config: Config) -> Catalog:
    return Catalog(TICKET_FIELDS, {"tiers": config.tier_names, "channels": tuple(config.channels)})


def ticket_facts(audience_size: int, tiers: set[str], channels: set[str],
                 playbook: str) -> dict[str, Any]:
    """The facts a level's `when` is evaluated on, in the form the evaluator expects."""
    return {"audience_size": float(audience_size), "tiers": tuple(sorted(tiers)),
            "channels": tuple(sorted(channels)), "playbook": playbook}


def levels_for(workflow: Workflow, facts: Mapping[str, Any]) -> tuple[Level, ...]:
    """The levels a ticket with these facts must pass, in order."""
    return tuple(level for level in workflow.levels
                 if level.when is None or holds(level.when, facts, _NO_DATE))


def parse_workflow(text: str, file: str, config: Config) -> Workflow:
    """One workflow file; raises ValidationError with every problem found in it."""
    return workflow_from(load_yaml(text, file), config)


def workflow_from(source: Source, config: Config) -> Workflow:
    """`parse_workflow` for YAML already loaded."""
    data, doc, problems = checked_parts(_WorkflowSchema(), source)
    raw_levels = doc.get("approve")
    parser = Parser(source, ticket_catalog(config))
    conditions: dict[int, Condition | None] = {}
    if isinstance(raw_levels, list):
        for i, raw in enumerate(raw_levels):
            if isinstance(raw, dict):
                problems.extend(_level_problems(source, config, i, raw))
                if raw.get("when") is not None:
                    conditions[i] = parser.parse(raw["when"], ["approve", i, "when"])
    problems.extend(parser.problems)
    if problems:
        raise ValidationError(problems)
    levels = tuple(Level(raw["level"], raw["role"], conditions.get(i))
                   for i, raw in enumerate(data["approve"]))
    sla = Sla(data["sla"]["approve"], data["sla"]["execute"])
    return Workflow(id=data["workflow"], rehearsal_sample=data["rehearsal"]["sample"],
                    levels=levels, sla=sla, evaluate_after=data["evaluate_after"],
                    standing=data["standing"], file=source.file)


def _level_problems(source: Source, config: Config, i: int,
                    raw: Mapping[str, Any]) -> list[Problem]:
    problems = []
    role, level = raw.get("role"), raw.get("level")
    if isinstance(role, str) and role not in config.roles:
        declared = ", ".join(config.roles) or "none declared"
        problems.append(source.at(["approve", i, "role"],
                                  f"unknown role {role!r} (expected a role listed under "
                                  f"roles: in {config.path}: {declared})"))
    if isinstance(level, int) and not isinstance(level, bool) and level != i + 1:
        problems.append(source.at(["approve", i, "level"],
                                  f"expected level {i + 1}: levels are numbered 1, 2, ... "
                                  f"in the order they approve"))
    if i == 0 and raw.get("when") is not None:
        problems.append(source.at(["approve", 0, "when"],
                                  "level 1 approves every ticket: it takes no 'when'"))
    return problems
