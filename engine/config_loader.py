"""config.yaml read and checked completely into engine/config.py's `Config`; and
`installed_config`, where a process reads the environment for it (the one place).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError as MarshmallowError
from marshmallow import fields, validate, validates, validates_schema

from engine.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_MISFIRE_GRACE,
    DEFAULT_REHEARSAL_MAX_AGE,
    Config,
    Notifier,
)
from engine.errors import Problem, ValidationError
from engine.folders import Folders
from engine.formats.schemas import (
    NAME,
    Duration,
    Entries,
    Integer,
    Number,
    Strict,
    Text,
    load_checked,
)
from engine.formats.source import Source, load_yaml
from engine.formats.values import DECLARABLE_TYPES
from engine.language.condition import Parser
from engine.language.customer import Stage, Tier
from engine.language.fields import customer_catalog
from engine.tasks.assignment_schema import AssignmentSchema
from engine.tasks.assignment_schema import build as build_assignment
from engine.tasks.assignment_schema import problems as assignment_problems
from engine.tasks.channel import CHANNEL_NAME, ChannelSchema, build_channel
from engine.tasks.policy_schema import PolicySchema, build_policy
from engine.tasks.reasons import ReasonsSchema, build_reasons
from engine.tasks.supervision import (
    SupervisionSchema,
    build_supervision,
    supervision_problems,
)

NOTIFIERS = ("log", "smtp", "webhook")
# What each notifier kind cannot work without (the rest have defaults).
ENV_NAME = validate.Regexp(r"^[A-Z_][A-Z0-9_]*$", error="expected an environment variable name")
ORIGIN = validate.Regexp(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
                         error="expected an origin: scheme://host[:port], no path")
_NOTIFIER_NEEDS = {"log": (), "smtp": ("host",), "webhook": ("url", "secret_env")}


class _TierSchema(Strict):
    tier = fields.String(required=True, validate=NAME)
    min_arpu = Number(required=True)


class _StageSchema(Strict):
    stage = fields.String(required=True, validate=NAME)
    when = fields.Raw()


class _NotifierSchema(Strict):
    kind = fields.String(load_default="log", validate=validate.OneOf(NOTIFIERS))
    base_url = Text(load_default="http://127.0.0.1:8000")
    host = Text()
    port = Integer(load_default=25)
    sender = Text(data_key="from", load_default="tend@localhost")
    to = Text()
    to_by_role = fields.Dict(keys=fields.String(), values=Text(), load_default=dict)
    url = Text()
    secret_env = Text(validate=ENV_NAME)
    timeout = Number(load_default=5.0, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def _complete(self, data: dict[str, Any], **_: Any) -> None:
        """A secret never sits in the file: a webhook names the variable that holds it."""
        missing = {key: ["required for notifier kind " + data["kind"]]
                   for key in _NOTIFIER_NEEDS[data["kind"]] if key not in data}
        if data["kind"] == "smtp" and "to" not in data and not data["to_by_role"]:
            missing["to"] = ["smtp needs `to` or `to_by_role`"]
        if missing:
            raise MarshmallowError(missing)


_TYPE = fields.String(validate=validate.OneOf(sorted(DECLARABLE_TYPES)))
# Team names are how the shipped playbooks already spell owners (retention-team).
TEAM = validate.Regexp(r"^[a-z][a-z0-9_-]*$", error="expected a team name of [a-z][a-z0-9_-]*")


class _TeamSchema(Strict):
    members = fields.List(Text(), load_default=list)  # users: playbook owners
    managers = fields.List(Text(), load_default=list)  # manager ids its supervisors answer for


class _ConsoleSchema(Strict):
    # Sites whose pages may frame the compact customer view (a CRM's pop-up): scheme, host
    # and port only, as CSP `frame-ancestors` names them.
    embed_origins = fields.List(fields.String(validate=ORIGIN), load_default=list)


class _ApprovalSchema(Strict):
    # A rehearsal older than this is run again when a ticket is opened for a decision
    # (adapters/tickets/recheck.py), as is one older than the last customer change.
    rehearsal_max_age = Duration("smhdw", load_default=DEFAULT_REHEARSAL_MAX_AGE)


class _ConfigSchema(Strict):
    timezone = Text(load_default="UTC")
    trigger_max_age = Duration(load_default=dt.timedelta(days=2))
    task_lease = Duration("smhdw", load_default=dt.timedelta(minutes=5))  # also 30s
    misfire_grace = Duration("smhdw", load_default=DEFAULT_MISFIRE_GRACE)
    database_url = Text(load_default=DEFAULT_DATABASE_URL)
    tiers = fields.List(fields.Nested(_TierSchema), required=True,
                        validate=validate.Length(min=1))
    lifecycle = fields.List(fields.Nested(_StageSchema), required=True,
                            validate=validate.Length(min=1))
    attributes = fields.Dict(keys=fields.String(validate=NAME), values=_TYPE, load_default=dict)
    events = fields.Dict(keys=fields.String(validate=NAME),
                         values=fields.Dict(keys=fields.String(validate=NAME), values=_TYPE),
                         load_default=dict)
    channels = Entries(keys=fields.String(validate=CHANNEL_NAME),
                       values=fields.Nested(ChannelSchema), load_default=dict)
    roles = fields.List(fields.String(validate=NAME), load_default=list)
    # where customers come to us (a store visit, a hotline call, the website): offers name
    # them; no tasks are sent on them, so they need no adapter
    contact_channels = fields.List(fields.String(validate=NAME), load_default=list)
    global_control = Number(load_default=0.0, validate=validate.Range(
        min=0, max=0.5, max_inclusive=False,
        error="expected 0 ≤ global_control < 0.5, got {input}"))
    teams = fields.Dict(keys=fields.String(validate=TEAM), values=fields.Nested(_TeamSchema),
                        load_default=dict)
    notifier = fields.Nested(_NotifierSchema, load_default=lambda: {"kind": "log"})
    contact_policy = fields.Nested(PolicySchema, load_default=dict)
    console = fields.Nested(_ConsoleSchema, load_default=dict)
    supervision = fields.Nested(SupervisionSchema, load_default=dict)
    result_reasons = fields.Nested(ReasonsSchema, load_default=dict)
    approval = fields.Nested(_ApprovalSchema, load_default=dict)
    assignment = fields.Nested(AssignmentSchema, load_default=dict)

    @validates("timezone")
    def _zone(self, value: str, **_: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise MarshmallowError(f"unknown timezone {value!r}") from None


def installed_config(environ: Mapping[str, str], path: Path | None = None,
                     folders: Folders | None = None) -> Config:
    """The config a process runs with, resolved once at startup (the CLI, the web app): the
    file `path`, else TEND_CONFIG's, else ./config.yaml; and the library folders `folders`,
    else those TEND_RULES and TEND_WORKFLOWS name. The one place these variables are read."""
    config = load_config(path or Path(environ.get("TEND_CONFIG") or "config.yaml"))
    return dataclasses.replace(config, folders=folders or Folders.from_environment(environ))


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem(str(path), 0, 0, f"cannot read config: {exc.strerror}")
        raise ValidationError([problem]) from None
    return parse_config(text, str(path))


def parse_config(text: str, file: str) -> Config:
    source = load_yaml(text, file)
    data = load_checked(_ConfigSchema(), source)
    attributes = {k: DECLARABLE_TYPES[v] for k, v in data["attributes"].items()}
    tiers = tuple(Tier(t["tier"], t["min_arpu"]) for t in data["tiers"])
    problems = _tier_problems(source, tiers)
    stage_names = [s["stage"] for s in data["lifecycle"]]
    parser = Parser(source, customer_catalog(attributes, tuple(t.name for t in tiers), None))
    stages = []
    for i, raw in enumerate(data["lifecycle"]):
        last = i == len(data["lifecycle"]) - 1
        when = raw.get("when")
        if last and when is not None:
            problems.append(source.at(["lifecycle", i, "when"],
                                      "the last lifecycle stage is the default: it has no 'when'"))
        if not last and when is None:
            problems.append(source.at(["lifecycle", i], "only the last stage may omit 'when'"))
        if stage_names.count(raw["stage"]) > 1:
            problems.append(source.at(["lifecycle", i, "stage"],
                                      f"duplicate stage {raw['stage']!r}"))
        cond = parser.parse(when, ["lifecycle", i, "when"]) if when is not None else None
        stages.append(Stage(raw["stage"], cond))
    problems.extend(parser.problems)
    problems.extend(_policy_problems(source, data["contact_policy"], data["channels"]))
    problems.extend(supervision_problems(source, data["supervision"], data["teams"],
                                         data["channels"]))
    problems.extend(assignment_problems(source, data["assignment"], [t.name for t in tiers],
                                        attributes))
    if problems:
        raise ValidationError(problems)
    channels = {name: build_channel(name, c) for name, c in data["channels"].items()}
    events = {name: {k: DECLARABLE_TYPES[v] for k, v in spec.items()}
              for name, spec in data["events"].items()}
    return Config(tiers=tiers, lifecycle=tuple(stages), attributes=attributes, events=events,
                  timezone=ZoneInfo(data["timezone"]), trigger_max_age=data["trigger_max_age"],
                  channels=channels, roles=tuple(data["roles"]),
                  database_url=data["database_url"], path=file,
                  notifier=_notifier(data["notifier"]), task_lease=data["task_lease"],
                  misfire_grace=data["misfire_grace"],
                  policy=build_policy(data["contact_policy"], ZoneInfo(data["timezone"])),
                  teams={name: frozenset(t["members"]) for name, t in data["teams"].items()},
                  contact_channels=tuple(dict.fromkeys(data["contact_channels"])),
                  global_control=data["global_control"],
                  embed_origins=tuple(data["console"].get("embed_origins", ())),
                  supervision=build_supervision(data["supervision"], data["teams"]),
                  reasons=build_reasons(data["result_reasons"]),
                  rehearsal_max_age=data["approval"].get("rehearsal_max_age",
                                                         DEFAULT_REHEARSAL_MAX_AGE),
                  assignment=build_assignment(data["assignment"]))


def _policy_problems(source: Source, policy: Mapping[str, Any],
                     channels: Mapping[str, Any]) -> list[Problem]:
    """The contact policy names channels this file binds."""
    known = ", ".join(channels) or "none declared"
    named: list[tuple[list[str | int], Any]]
    named = [(["contact_policy", "caps", i, "channel"], cap.get("channel"))
             for i, cap in enumerate(policy.get("caps", []))]
    named += [(["contact_policy", "channels", name], name) for name in policy.get("channels", {})]
    named += [(["contact_policy", "phone_channels", i], name)
              for i, name in enumerate(policy.get("phone_channels", []))]
    return [source.at(path, f"unknown channel {name!r} (expected one of: {known})")
            for path, name in named if name is not None and name not in channels]


def _notifier(data: dict[str, Any]) -> Notifier:
    """An absent section is loaded as `{kind: log}` without its other defaults: keep ours."""
    defaults = Notifier()
    return Notifier(kind=data["kind"], base_url=data.get("base_url", defaults.base_url),
                    host=data.get("host"), port=data.get("port", defaults.port),
                    sender=data.get("sender", defaults.sender), to=data.get("to"),
                    to_by_role=dict(data.get("to_by_role", {})), url=data.get("url"),
                    secret_env=data.get("secret_env"),
                    timeout=data.get("timeout", defaults.timeout))


def _tier_problems(source: Source, tiers: tuple[Tier, ...]) -> list[Problem]:
    problems = []
    for i in range(1, len(tiers)):
        if tiers[i].min_arpu >= tiers[i - 1].min_arpu:
            problems.append(source.at(["tiers", i, "min_arpu"],
                                      "tiers are listed highest first: min_arpu must decrease"))
    names = [t.name for t in tiers]
    for i, name in enumerate(names):
        if names.index(name) != i:
            problems.append(source.at(["tiers", i, "tier"], f"duplicate tier {name!r}"))
    return problems
