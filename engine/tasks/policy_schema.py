"""config.yaml's `contact_policy` section, read into an engine.tasks.policy.Policy.

Kept apart from the decisions so a reader of engine/tasks/policy.py meets the rules, not the
format; the channel names are checked by engine/config_loader.py, which knows the channels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError as MarshmallowError
from marshmallow import fields, validate, validates_schema

from engine.formats.schemas import Duration, Integer, Strict, Text
from engine.tasks.contact import Declines
from engine.tasks.policy import CLASSES, MARKETING, Cap, ChannelRules, Policy, QuietHours

_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"


class _CapSchema(Strict):
    channel = Text()
    classes = fields.List(Text(validate=validate.OneOf(
        CLASSES, error="expected one of {choices}, got {input!r}")), validate=validate.Length(
        min=1, error="expected at least one class"))
    max = Integer(required=True, validate=validate.Range(min=0, error="expected 0 or more"))
    per = Duration(required=True)


class _ChannelRulesSchema(Strict):
    quiet_hours = Text(validate=validate.Regexp(
        _CLOCK, error="expected local times 'HH:MM-HH:MM', like '21:00-09:00'"))
    capacity = Integer(validate=validate.Range(min=1, error="expected 1 or more"))

    @validates_schema
    def _distinct(self, data: Mapping[str, Any], **_: Any) -> None:
        hours = data.get("quiet_hours")
        if hours and hours[:5] == hours[6:]:
            raise MarshmallowError({"quiet_hours": ["start and end are the same time"]})


class _ArbitrationSchema(Strict):
    window = Duration(required=True)


class _DeclinesSchema(Strict):
    max = Integer(required=True, validate=validate.Range(min=1, error="expected 1 or more"))
    within = Duration(required=True)


class PolicySchema(Strict):
    caps = fields.List(fields.Nested(_CapSchema), load_default=list)
    channels = fields.Dict(keys=fields.String(), values=fields.Nested(_ChannelRulesSchema),
                           load_default=dict)
    arbitration = fields.Nested(_ArbitrationSchema)
    declines = fields.Nested(_DeclinesSchema)
    # channels that reach the customer on their phone: a phone reported wrong stops them all
    phone_channels = fields.List(fields.String(), load_default=list)


def build_policy(data: Mapping[str, Any], timezone: ZoneInfo) -> Policy:
    """The Policy of a loaded `contact_policy` section (channel names checked by the caller)."""
    channels = {}
    for name, raw in data.get("channels", {}).items():
        hours = raw.get("quiet_hours")
        quiet = (QuietHours(dt.time.fromisoformat(hours[:5]), dt.time.fromisoformat(hours[6:]))
                 if hours else None)
        channels[name] = ChannelRules(quiet, raw.get("capacity"))
    caps = tuple(Cap(c["max"], c["per"], c.get("channel"),
                     frozenset(c["classes"]) if "classes" in c else MARKETING)
                 for c in data.get("caps", []))
    arbitration = data.get("arbitration")
    declines = data.get("declines")
    return Policy(timezone, caps, channels, arbitration["window"] if arbitration else None,
                  Declines(declines["max"], declines["within"]) if declines else None,
                  frozenset(data.get("phone_channels", ())))
