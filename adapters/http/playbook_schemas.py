"""The playbooks API's documents: validate, preview (of a file or a draft), playbooks, their
versions and diffs.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.http.schemas import AtField, Out


class ValidateIn(Schema):
    yaml = fields.String(required=True, metadata={"description": "the playbook's YAML text"})


class PreviewIn(Schema):
    at = AtField(metadata={"description": "YYYY-MM-DD or ISO timestamp (default: now)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=10_000),
                           metadata={"description": "ids per page"})
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})
    group = fields.String(load_default="treatment",
                          validate=validate.OneOf(["treatment", "control", "matched",
                                                   "suppressed"]),
                          metadata={"description": "which ids to page through"})


class DraftPreviewIn(PreviewIn):
    yaml = fields.String(required=True, metadata={"description": "a draft playbook's YAML"})


class PreviewOut(Out):
    playbook = fields.String()
    version = fields.Integer()
    at = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "matched, treatment, control, suppressed"})
    steps = fields.Dict(keys=fields.String(), values=fields.Integer())
    suppressed = fields.Dict(keys=fields.String(), values=fields.Integer())
    sample = fields.List(fields.String())
    power = fields.Dict(metadata={"description": "engine.measurement.power for this split, as a "
                                                 "ticket's "
                                                "rehearsal shows it (docs/EVALUATION.md)"})
    offers = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "per step that names offers (its variants' included): offer -> "
                       "treatment customers who would be given it and are eligible"})
    variants = fields.Dict(allow_none=True, metadata={
        "description": "the variant step's split: {step, variants: [{name, weight, treatment, "
                       "offers: {offer: eligible}}]}; null without variants"})
    group = fields.String()
    ids = fields.List(fields.String())
    next_cursor = fields.String(allow_none=True)


class PlaybookOut(Out):
    id = fields.String()
    title = fields.String()
    version = fields.Integer()
    owner = fields.String(allow_none=True)
    priority = fields.Integer()
    trigger = fields.Dict()
    workflow = fields.String()
    holdout = fields.Float()
    cooldown = fields.String(allow_none=True)
    steps = fields.List(fields.Dict())
    goal = fields.Dict(allow_none=True)
    hash = fields.String()


class PlaybookDetailOut(PlaybookOut):
    yaml = fields.String(metadata={"description": "the installed YAML text"})


class PlaybookList(Out):
    items = fields.List(fields.Nested(PlaybookOut))
    next_cursor = fields.String(allow_none=True)


class VersionOut(Out):
    version = fields.Integer()
    hash = fields.String()
    loaded_at = fields.String(metadata={"description": "when a ticket first ran on it"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why Tend wrote this version (a promoted variant and its evidence)"})


class VersionList(Out):
    items = fields.List(fields.Nested(VersionOut))
    next_cursor = fields.String(allow_none=True)


class DiffOut(Out):
    playbook = fields.String()
    from_version = fields.Integer(data_key="from")
    to_version = fields.Integer(data_key="to")
    diff = fields.String(metadata={"description": "unified diff of the stored YAML texts"})
    rows = fields.List(fields.Dict(), metadata={
        "description": "side by side: {kind: equal|changed|added|removed|gap, old_no, old, "
                       "new_no, new, hidden}; a gap row stands for `hidden` unchanged lines"})
    audience = fields.List(fields.Dict(), metadata={
        "description": "per version: {version, matched, treatment, control} swept now at one "
                       "instant, or {version, error} when its text no longer validates"})


class ValidateOut(Out):
    ok = fields.Boolean()
    playbook = fields.Nested(PlaybookOut)
    warnings = fields.List(fields.Dict(), metadata={
        "description": "{line, column, message}: steps whose sends and retries the contact "
                       "policy's caps can never let through (docs/CHANNELS.md)"})
