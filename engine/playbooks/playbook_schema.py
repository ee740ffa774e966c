"""A JSON Schema (draft 2020-12) of the playbook format, for editors that complete and check YAML.

Written from the same constants the loader checks against (operators per field type, the
channels, events and tiers of config.yaml, the known workflows), so the two cannot drift on
those. The schema is a helper for typing, not the judge: `tend validate` remains the
authority (it also checks cron strings, duplicate step ids, and event fields against the
trigger's own event type, which a schema cannot express simply).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.config import Config
from engine.formats.values import CONDITION_UNITS, SCHEDULE_UNITS, FieldType
from engine.language.condition import COMPARISONS, DATE_OPS, OPS_BY_TYPE
from engine.playbooks.playbook import COOLDOWN_UNITS, GOAL_UNITS, RESULT_STATUSES, ROUTES, UNLESS

SCHEMA_ID = "https://tend.invalid/schemas/playbook.json"
_DATE = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
         "description": "a date, YYYY-MM-DD"}
_ID = {"type": "string", "pattern": "^[a-z0-9_-]+$"}
_SCALARS: dict[FieldType, dict[str, Any]] = {
    FieldType.NUMBER: {"type": "number"}, FieldType.STRING: {"type": "string"},
    FieldType.DATE: _DATE, FieldType.BOOL: {"type": "boolean"}, FieldType.LIST: {"type": "string"},
}


def duration(units: str, description: str) -> dict[str, Any]:
    spelled = ", ".join(f"N{u}" for u in units)
    return {"type": "string", "pattern": f"^[0-9]+[{units}]$",
            "description": f"{description} ({spelled})"}


def playbook_schema(config: Config, workflows: Iterable[str] = ()) -> dict[str, Any]:
    """The schema; `workflows` (ids) become an enum when given."""
    workflow: dict[str, Any] = {"type": "string",
                                "description": "the workflow (workflows/<id>.yaml) of its tickets"}
    if names := sorted(workflows):
        workflow["enum"] = names
    events = {"type": "string", "enum": list(config.events),
              "description": "an event type declared under events: in config.yaml"}
    condition = {"$ref": "#/$defs/condition"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tend playbook",
        "description": "A retention playbook: who (audience), when (trigger), how (steps).",
        "type": "object",
        "additionalProperties": False,
        "required": ["playbook", "title", "version", "trigger", "audience", "workflow", "steps"],
        "properties": {
            "playbook": {**_ID, "description": "unique id: [a-z0-9_-]+"},
            "title": {"description": "what it is for: one string, or {zh: ..., en: ...}",
                      "oneOf": [{"type": "string", "minLength": 1},
                                {"type": "object", "additionalProperties": False,
                                 "required": ["zh", "en"],
                                 "properties": {"zh": {"type": "string", "minLength": 1},
                                                "en": {"type": "string", "minLength": 1}}}]},
            "version": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "description":
                        "tickets record it; bump it whenever the content changes"},
            "owner": {"type": "string", "description":
                      "who answers for it; owners cannot approve its tickets"},
            "priority": {"type": "integer", "description":
                         "arbitration: higher wins (default 0; tie: smaller playbook id wins)"},
            "class": {"enum": ["service", "care", "retention", "sales"], "description":
                      "contact class (default sales): care and service are never arbitrated "
                      "against marketing (retention, sales) nor counted in its caps"},
            "trigger": _trigger(events, config.contact_channels),
            "audience": {**condition, "description": "who is selected: a condition"},
            "exclude": {**condition, "description": "who is left out even if in the audience"},
            "holdout": {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "description":
                        "control-group fraction, 0 ≤ h < 1 (default 0)"},
            "cooldown": duration(COOLDOWN_UNITS, "at most one entry per customer per cooldown"),
            "workflow": workflow,
            "steps": {"type": "array", "minItems": 1, "items": _step(config, condition),
                      "description": "what happens to each treatment customer, in order"},
            "goal": {"type": "object", "additionalProperties": False,
                     "required": ["event", "within"],
                     "description": "the event that counts as a conversion, and its window",
                     "properties": {"event": events,
                                    "within": duration(GOAL_UNITS, "the goal window")}},
        },
        "$defs": {"condition": _condition(config), **_operator_defs(config)},
    }


def _trigger(events: dict[str, Any], contact_channels: Iterable[str]) -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False,
        "description": "a cron schedule (sweep), an event type or contact channels: exactly one",
        "minProperties": 1, "maxProperties": 1,
        "properties": {
            "schedule": {"type": "string", "pattern": r"^\s*\S+(\s+\S+){4}\s*$", "description":
                         "crontab(5) 'minute hour day month weekday' (1-5 or mon-fri)"},
            "event": {**events, "description":
                      "run when this event arrives; its fields are event.<field>, "
                      "event.data.<key>"},
            "contact": {"type": "array", "minItems": 1, "uniqueItems": True,
                        "items": {"type": "string", "enum": list(contact_channels)},
                        "description": "run for one customer when they reach us on one of "
                                       "these contact channels (their view is opened there)"},
        },
    }


def _step(config: Config, condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False,
        "required": ["id", "channel", "template"],
        "properties": {
            "id": {**_ID, "description": "unique within the playbook"},
            "channel": {"type": "string", "enum": list(config.channels),
                        "description": "a channel of config.yaml"},
            "route": {"type": "string", "enum": list(ROUTES), "description":
                      "pool (default) or manager: the customer's account manager when set"},
            "template": {"type": "string", "minLength": 1, "description": "the message or script"},
            "params": {"type": "object", "description": "free-form, passed to the adapter"},
            "when": {**condition, "description": "only customers for whom this holds"},
            "retry": {
                "type": "object", "additionalProperties": False,
                "required": ["on", "times", "after"],
                "properties": {
                    "on": {"type": "array", "minItems": 1,
                           "items": {"type": "string", "enum": list(RESULT_STATUSES)}},
                    "times": {"type": "integer", "minimum": 1},
                    "after": duration(SCHEDULE_UNITS, "wait before retrying"),
                },
            },
            "delay": duration(SCHEDULE_UNITS, "after the ticket starts executing (default 0)"),
            "unless": {"type": "string", "enum": list(UNLESS), "description":
                       "skip when the goal was reached or an earlier step was accepted"},
            "offers": {"type": "array", "items": _ID,
                       "description": "offer ids of rules/offers/, best first"},
            "variants": {
                "type": "array", "minItems": 2,
                "description": "champion/challenger: the treatment split by weight, each "
                               "variant overriding channel, template or offers",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["name", "weight"],
                    "properties": {
                        "name": {**_ID, "description": "unique within the step"},
                        "weight": {"type": "number", "exclusiveMinimum": 0},
                        "channel": {"type": "string", "enum": list(config.channels)},
                        "template": {"type": "string", "minLength": 1},
                        "offers": {"type": "array", "items": _ID},
                    },
                },
            },
        },
    }


def _fields(config: Config) -> dict[str, tuple[FieldType, tuple[str, ...] | None]]:
    """Every field any playbook may name; event data fields of all events together."""
    found: dict[str, tuple[FieldType, tuple[str, ...] | None]] = {}
    for event in (None, *config.events):
        catalog = config.catalog(event)
        for name, ftype in catalog.types.items():
            found.setdefault(name, (ftype, catalog.choices.get(name)))
    return found


def _condition(config: Config) -> dict[str, Any]:
    listed = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
    properties: dict[str, Any] = {
        "all": {**listed, "description": "every condition holds"},
        "any": {**listed, "description": "at least one condition holds"},
        "not": {"$ref": "#/$defs/condition", "description": "the condition does not hold"},
    }
    for name, (ftype, choices) in sorted(_fields(config).items()):
        ref = f"ops_{name}" if choices else f"ops_{ftype.value}"
        where = " (event-triggered playbooks only)" if name.startswith("event.") else ""
        properties[name] = {"$ref": f"#/$defs/{ref}",
                            "description": f"{ftype.value} field{where}"}
    return {"type": "object", "minProperties": 1, "maxProperties": 1,
            "additionalProperties": False, "properties": properties,
            "description": "all: [...], any: [...], not: {...}, or <field>: {<op>: value}"}


def _operator_defs(config: Config) -> dict[str, Any]:
    defs = {f"ops_{ftype.value}": _ops(ftype, None) for ftype in FieldType}
    for name, (ftype, choices) in _fields(config).items():
        if choices:
            defs[f"ops_{name}"] = _ops(ftype, choices)
    return defs


def _ops(ftype: FieldType, choices: tuple[str, ...] | None) -> dict[str, Any]:
    scalar = {**_SCALARS[ftype], **({"enum": list(choices)} if choices else {})}
    many = {"type": "array", "minItems": 1, "items": scalar}
    ops: dict[str, Any] = {}
    for op in OPS_BY_TYPE[ftype]:
        if op in (*COMPARISONS, "contains"):
            ops[op] = scalar
        elif op in ("in", "not_in", "contains_any", "contains_all"):
            ops[op] = many
        elif op == "between":
            ops[op] = {"type": "array", "prefixItems": [scalar, scalar], "minItems": 2,
                       "maxItems": 2, "description": "[low, high], both included"}
        elif op == "exists":
            ops[op] = {"type": "boolean", "description": "true: value present; false: missing"}
        elif op in DATE_OPS:
            ops[op] = duration(CONDITION_UNITS, f"{op.replace('_', ' ')} N days or weeks")
    return {"type": "object", "minProperties": 1, "additionalProperties": False,
            "properties": ops, "description": f"operators of a {ftype.value} field"}
