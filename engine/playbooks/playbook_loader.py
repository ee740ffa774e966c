"""Playbook files (rules/*.yaml) read into engine/playbooks/playbook.py's `Playbook`, checked
completely.

Checking happens in two passes over the same YAML: marshmallow checks the structure (keys,
types, durations, ranges) and the condition parser plus the cross checks below look at what
structure alone cannot judge (fields and operators, channels, workflows, event types, cron
strings). Both passes always run, so a designer sees every problem of a file at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from marshmallow import ValidationError as MarshmallowError
from marshmallow import fields, validate, validates_schema

from engine.compilers import rules
from engine.config import Config
from engine.errors import Problem, ValidationError
from engine.formats.blocks import EXPECTED_MAPPING, Format, choice, listing
from engine.formats.schemas import IDENTIFIER, Duration, Integer, Number, Text, Texts, checked_parts
from engine.formats.source import PathKey, Source, load_yaml
from engine.language.condition import Condition, Parser
from engine.language.suggest import did_you_mean
from engine.playbooks import variant as variants_
from engine.playbooks.contact_trigger import contact_problems
from engine.playbooks.playbook import (
    COOLDOWN_UNITS,
    GOAL_UNITS,
    MAX_VERSION,
    RESULT_STATUSES,
    ROUTES,
    TITLE_LANGUAGES,
    UNLESS,
    Goal,
    Playbook,
    Retry,
    Step,
    Trigger,
    content_hash,
)
from engine.playbooks.schedule import problem as schedule_problem
from engine.playbooks.variant import VariantSchema
from engine.playbooks.workflow import Workflow
from engine.tasks.policy import CLASSES, SALES

_NONEMPTY = validate.Length(min=1, error="expected a non-empty string")


class _RetrySchema(Format):
    on = listing(Text(validate=choice(RESULT_STATUSES)), min_items=1, required=True)
    times = Integer(required=True,
                    validate=validate.Range(min=1, error="expected 1 or more, got {input}"))
    after = Duration(required=True)


class _StepSchema(Format):
    id = Text(required=True, validate=IDENTIFIER)
    channel = Text(required=True)
    route = Text(load_default="pool", validate=choice(ROUTES))
    template = Text(required=True, validate=_NONEMPTY)
    params = fields.Dict(keys=Text(), load_default=dict, error_messages=EXPECTED_MAPPING)
    when = fields.Raw()
    retry = fields.Nested(_RetrySchema)
    delay = Duration(load_default=dt.timedelta(0))
    unless = Text(validate=choice(UNLESS))
    offers = listing(Text(validate=IDENTIFIER))
    variants = listing(fields.Nested(VariantSchema))


class _TriggerSchema(Format):
    schedule = Text()
    event = Text()
    contact = listing(Text(validate=_NONEMPTY), min_items=1)

    @validates_schema
    def _exactly_one(self, data: Mapping[str, Any], **_: Any) -> None:
        if sum(key in data for key in ("schedule", "event", "contact")) != 1:
            raise MarshmallowError("expected exactly one of 'schedule' (a cron string), "
                                   "'event' (an event type) or 'contact' (a list of contact "
                                   "channels)")


class _GoalSchema(Format):
    event = Text(required=True)
    within = Duration(GOAL_UNITS, required=True)


class _PlaybookSchema(Format):
    playbook = Text(required=True, validate=IDENTIFIER)
    title = Texts(TITLE_LANGUAGES, required=True)
    version = Integer(required=True, validate=[
        validate.Range(min=1, error="expected a positive integer, got {input}"),
        validate.Range(max=MAX_VERSION,  # tickets store it in a 32-bit integer column
                       error="expected a positive integer of at most {max}, got {input}")])
    owner = Text()
    priority = Integer(load_default=0)
    contact_class = Text(data_key="class", load_default=SALES, validate=validate.OneOf(
        CLASSES, error="expected one of {choices}, got {input!r}"))
    trigger = fields.Nested(_TriggerSchema, required=True)
    audience = fields.Raw(required=True)
    exclude = fields.Raw()  # type: ignore[assignment]  # a key of the format, not Schema.exclude
    holdout = Number(load_default=0.0, validate=validate.Range(
        min=0, max=1, max_inclusive=False, error="expected 0 ≤ holdout < 1, got {input}"))
    cooldown = Duration(COOLDOWN_UNITS)
    workflow = Text(required=True)
    steps = listing(fields.Nested(_StepSchema), min_items=1, required=True)
    goal = fields.Nested(_GoalSchema)


def parse_playbook(text: str, file: str, config: Config,
                   workflows: Mapping[str, Workflow | None],
                   offers: Collection[str] | None = None) -> Playbook:
    """One playbook file; raises ValidationError with every problem found in it.

    `workflows` maps the known workflow ids to their workflow, or to None for one whose own
    file failed to load (its id is known, so referring to it is not a second error).
    `offers` are the offer ids steps may name; None skips that check, for a version stored
    when its ticket was planned (checked then; its offers may have left the library since).
    """
    return playbook_from(load_yaml(text, file), text, config, workflows, offers)


def playbook_from(source: Source, text: str, config: Config,
                  workflows: Mapping[str, Workflow | None],
                  offers: Collection[str] | None = None) -> Playbook:
    """`parse_playbook` for YAML already loaded (ruamel's loader is the slow part)."""
    data, doc, problems = checked_parts(_PlaybookSchema(), source)
    checks = _Checks(source, config, doc)
    checks.trigger(workflows)
    checks.owner()
    checks.steps(offers)
    conditions = checks.conditions()
    problems.extend(checks.problems)
    problems.extend(variants_.problems(source, doc, config.channels, offers))
    if problems:
        raise ValidationError(problems)
    playbook = _build(data, conditions, source.file, text, content_hash(source.root))
    if playbook.trigger.event:
        _check_event_engine(playbook, source)
    return playbook


def _check_event_engine(playbook: Playbook, source: Source) -> None:
    """Events are matched by durable-rules, whose fixed limits a large condition can exceed."""
    try:
        rules.render(playbook.selector)
    except ValidationError as exc:
        raise ValidationError([source.at(["audience"], f"audience and exclude: {p.message}")
                               for p in exc.problems]) from None


class _Checks:
    """The checks that need config, the workflow library, or the condition parser."""

    def __init__(self, source: Source, config: Config, doc: Mapping[str, Any]) -> None:
        self.source, self.config, self.doc = source, config, doc
        self.problems: list[Problem] = []
        trigger = doc.get("trigger")
        self.event = trigger.get("event") if isinstance(trigger, dict) else None
        if not isinstance(self.event, str):
            self.event = None

    def fail(self, path: list[PathKey], message: str) -> None:
        self.problems.append(self.source.at(path, message))

    def event_type(self, path: list[PathKey], name: Any) -> None:
        if isinstance(name, str) and name not in self.config.events:
            known = ", ".join(self.config.events) or "none declared"
            self.fail(path, f"unknown event type {name!r}{did_you_mean(name, self.config.events)}"
                            f" (expected one of the events in "
                            f"{self.config.path}: {known})")

    def trigger(self, workflows: Mapping[str, Workflow | None]) -> None:
        trigger = self.doc.get("trigger")
        schedule = trigger.get("schedule") if isinstance(trigger, dict) else None
        if isinstance(schedule, str):
            self.cron(schedule)
        self.event_type(["trigger", "event"], self.event)
        goal = self.doc.get("goal")
        if isinstance(goal, dict):
            self.event_type(["goal", "event"], goal.get("event"))
        name = self.doc.get("workflow")
        if not isinstance(name, str):
            return
        if name not in workflows:
            self.fail(["workflow"], f"unknown workflow {name!r}{did_you_mean(name, workflows)} "
                                    f"(expected one of: "
                                    f"{', '.join(sorted(workflows)) or 'none loaded'})")
            return
        workflow = workflows[name]
        if (workflow is not None and workflow.standing and isinstance(trigger, dict)
                and "schedule" in trigger):
            self.fail(["workflow"], f"workflow {name!r} is standing: expected an "
                                    f"event-triggered or contact-triggered playbook or a "
                                    f"workflow with standing: false")
        self.problems.extend(contact_problems(self.source, self.config, trigger, name,
                                              workflow))

    def owner(self) -> None:
        """An owner nobody can resolve would bar nobody from approving: it must be a team of
        config.yaml or one of its members."""
        owner = self.doc.get("owner")
        if isinstance(owner, str) and not self.config.owner_known(owner):
            teams = ", ".join(sorted(self.config.teams)) or "none declared"
            self.fail(["owner"], f"unknown owner {owner!r}: expected a team declared under "
                                 f"`teams:` in {self.config.path} ({teams}) or a member of one")

    def cron(self, schedule: str) -> None:
        """crontab(5) meaning (engine/playbooks/schedule.py), whatever APScheduler's own dialect
        says."""
        problem = schedule_problem(schedule)
        if problem is not None:
            self.fail(["trigger", "schedule"], f"expected a cron string 'minute hour day "
                                               f"month weekday' like '0 9 * * *': {problem}")

    def step_offers(self, i: int, names: Any, offers: Collection[str]) -> None:
        for j, name in enumerate(names if isinstance(names, list) else []):
            if isinstance(name, str) and name not in offers:
                self.fail(["steps", i, "offers", j], (
                    f"unknown offer {name!r}{did_you_mean(name, offers)} "
                    f"(expected one of the offers in rules/offers/: "
                    f"{', '.join(sorted(offers)) or 'none loaded'})"))

    def steps(self, offers: Collection[str] | None) -> None:
        steps = self.doc.get("steps")
        if not isinstance(steps, list):
            return
        seen: dict[str, int] = {}
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            channel = step.get("channel")
            if isinstance(channel, str) and channel not in self.config.channels:
                self.fail(["steps", i, "channel"], (
                    f"unknown channel {channel!r}{did_you_mean(channel, self.config.channels)} "
                    f"(expected one of the channels in "
                    f"{self.config.path}: {', '.join(self.config.channels) or 'none declared'})"))
            if offers is not None:
                self.step_offers(i, step.get("offers"), offers)
            step_id = step.get("id")
            if isinstance(step_id, str) and step_id in seen:
                line = self.source.at(["steps", seen[step_id], "id"], "").line
                self.fail(["steps", i, "id"],
                          f"duplicate step id {step_id!r} (first at line {line}): "
                          f"expected ids unique within the playbook")
            elif isinstance(step_id, str):
                seen[step_id] = i

    def conditions(self) -> dict[tuple[PathKey, ...], Condition | None]:
        """Every condition of the document, parsed against the playbook's catalog."""
        parser = Parser(self.source, self.config.catalog(self.event))
        found: dict[tuple[PathKey, ...], Condition | None] = {}
        for key in ("audience", "exclude"):
            if self.doc.get(key) is not None:
                found[(key,)] = parser.parse(self.doc[key], [key])
        steps = self.doc.get("steps")
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict) and step.get("when") is not None:
                found[("steps", i, "when")] = parser.parse(step["when"], ["steps", i, "when"])
        self.problems.extend(self.event_hint(p) for p in parser.problems)
        return found

    def event_hint(self, problem: Problem) -> Problem:
        """An `event.*` field in a scheduled playbook gets the reason instead of the field list."""
        if self.event is not None or not problem.message.startswith("unknown field 'event."):
            return problem
        name = problem.message.split("'")[1]
        return replace(problem, message=f"unknown field {name!r}: event fields exist only in "
                                        f"event-triggered playbooks (expected trigger: "
                                        f"{{event: <type>}}, or a customer field)")


def _build(data: Mapping[str, Any], conditions: Mapping[tuple[PathKey, ...], Condition | None],
           file: str, text: str, digest: str) -> Playbook:
    steps = []
    for i, raw in enumerate(data["steps"]):
        retry = raw.get("retry")
        steps.append(Step(
            id=raw["id"], channel=raw["channel"], route=raw["route"], template=raw["template"],
            params=raw["params"], when=conditions.get(("steps", i, "when")),
            retry=Retry(tuple(retry["on"]), retry["times"], retry["after"]) if retry else None,
            delay=raw["delay"], unless=raw.get("unless"),
            offers=tuple(dict.fromkeys(raw.get("offers", ()))),
            variants=variants_.build(raw.get("variants", ()))))
    trigger, goal = data["trigger"], data.get("goal")
    audience = conditions[("audience",)]
    assert audience is not None  # a failed condition is a problem, and problems raise first
    title = data["title"]
    titles = tuple(title.items()) if isinstance(title, dict) else ()
    return Playbook(
        id=data["playbook"], title=title["en"] if titles else title, titles=titles,
        version=data["version"],
        owner=data.get("owner"), priority=data["priority"],
        trigger=Trigger(trigger.get("schedule"), trigger.get("event"),
                        tuple(dict.fromkeys(trigger.get("contact", ())))),
        audience=audience, exclude=conditions.get(("exclude",)), holdout=data["holdout"],
        cooldown=data.get("cooldown"), workflow=data["workflow"], steps=tuple(steps),
        goal=Goal(goal["event"], goal["within"]) if goal else None, file=file, text=text,
        hash=digest, contact_class=data["contact_class"])
