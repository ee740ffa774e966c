"""Request and response schemas: they validate input and generate /openapi.json.

Inputs reject unknown fields (marshmallow's default), so a misspelt field is a 400 naming it.
Responses are documented with these schemas but returned as built; they declare what is
returned and allow more (`Out`), so adding a field never breaks a client of the document.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from engine import ticket as tk
from engine.playbook import RESULT_STATUSES

NonEmpty = validate.Length(min=1)


class Out(Schema):
    """A response document; fields beyond the declared ones may appear."""

    class Meta:
        unknown = INCLUDE


class AtField(fields.String):
    """`YYYY-MM-DD` (local midnight) or an ISO timestamp; without an offset, config timezone."""


class HealthOut(Out):
    status = fields.String(required=True)


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
    power = fields.Dict(metadata={"description": "engine.power for this split, as a ticket's "
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


class ExplainQuery(Schema):
    playbook = fields.String(metadata={"description": "a playbook id (default: all)"})
    at = AtField()


class CustomerOut(Out):
    """DESIGN 3 fields and the attributes config.yaml declares, as stored (null if unset)."""

    id = fields.String()
    joined_on = fields.Date()
    tags = fields.List(fields.String())
    opt_out = fields.List(fields.String())
    attrs = fields.Dict()
    computed = fields.Dict(metadata={"description": "tier, stage, tenure_days, "
                                                   "days_to_birthday now"})


class UpsertOut(Out):
    received = fields.Integer()
    inserted = fields.Integer()
    updated = fields.Integer()
    ignored_fields = fields.List(fields.String())
    assigned = fields.Integer(metadata={"description": "customers the assignment rules gave "
                                                         "a manager afterwards"})


class EventIn(Schema):
    id = fields.String()
    customer_id = fields.String(required=True)
    type = fields.String(required=True)
    at = AtField(required=True)
    data = fields.Dict()


class TriggeredOut(Out):
    event = fields.String(allow_none=True)
    seq = fields.Integer()
    customer_id = fields.String()
    playbook = fields.String()
    version = fields.Integer()
    ticket = fields.Integer(metadata={"description": "the standing ticket entered, if any"})
    tasks = fields.List(fields.Nested(lambda: TaskOut()))
    reason = fields.String(allow_none=True, metadata={
        "description": "why no task was made: unknown customer, older than trigger_max_age, "
                       "conditions not met, cooldown, opted_out, control group, no approved "
                       "standing ticket for this version, no step applies, gathered for the "
                       "daily ticket of <YYYY-MM-DD>"})


class EventsOut(Out):
    received = fields.Integer()
    stored = fields.Integer()
    ignored = fields.Integer(metadata={"description": "ids already stored (client retries)"})
    unknown_customers = fields.List(fields.String())
    triggered = fields.List(fields.Nested(TriggeredOut), metadata={
        "description": "one item per new event x event-triggered playbook of its type"})


class TicketsQuery(Schema):
    state = fields.String(validate=validate.OneOf(tk.STATES))
    playbook = fields.String()
    overdue = fields.Boolean(load_default=False)
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class TicketIn(Schema):
    playbook = fields.String(required=True, validate=NonEmpty)
    at = AtField(metadata={"description": "the plan's moment (default: now)"})


class ApproveIn(Schema):
    comment = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True, metadata={
        "description": "the level being decided, as the caller saw it: a repeat for that level "
                       "answers 200 with repeat=true, another level already decided is 409"})


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=NonEmpty)
    level = fields.Integer(allow_none=True, metadata={
        "description": "the level being decided (reject only), as for approve"})


class TicketOut(Out):
    id = fields.Integer()
    playbook = fields.String()
    version = fields.Integer()
    playbook_hash = fields.String()
    workflow = fields.String()
    state = fields.String()
    trigger = fields.String()
    window_key = fields.String(allow_none=True)
    at = fields.String(allow_none=True, metadata={"description": "the plan's moment"})
    planned_at = fields.String(allow_none=True)
    planned_by = fields.String()
    audience = fields.Dict()
    steps = fields.Dict(keys=fields.String(), values=fields.Integer())
    levels = fields.List(fields.Dict())
    approvals = fields.List(fields.Dict())
    next_level = fields.Integer(allow_none=True)
    deadline = fields.String(allow_none=True)
    repeat = fields.Boolean(metadata={"description": "approve/reject only: true when this "
                                      "person had already made this decision; nothing changed"})
    started_at = fields.String(allow_none=True)
    evaluate_after = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    power = fields.Dict(allow_none=True, metadata={
        "description": "engine.power at planning: minimum detectable effect at 80% power, "
                       "base rate and its source, holdout needed (docs/EVALUATION.md)"})
    warnings = fields.List(fields.Dict(), metadata={
        "description": "what an approver must weigh, each {code, message}: under_powered"})


class TicketDetailOut(TicketOut):
    rehearsal = fields.Dict(allow_none=True)
    card = fields.Dict(allow_none=True, metadata={
        "description": "the approval card (engine/approval_card.py): who, what, when, cost, "
                       "overlap with executing tickets, why each level applies, the last "
                       "measured result, and for a standing ticket what approving starts; "
                       "null when the ticket's playbook version cannot be read"})
    audit = fields.List(fields.Dict())
    results = fields.Dict(allow_none=True)


class TicketList(Out):
    items = fields.List(fields.Nested(TicketOut))
    next_cursor = fields.String(allow_none=True)


class TaskOut(Out):
    id = fields.Integer()
    ticket_id = fields.Integer()
    customer_id = fields.String()
    step = fields.String()
    channel = fields.String()
    route = fields.String(allow_none=True)
    state = fields.String()
    idempotency_key = fields.String()
    due_at = fields.String()
    payload = fields.Dict()
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class TaskList(Out):
    items = fields.List(fields.Nested(TaskOut))
    next_cursor = fields.String(allow_none=True)


class PullQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class LeasedTaskOut(TaskOut):
    lease_expires_at = fields.String(allow_none=True, metadata={
        "description": "held for this puller until then; null on a task listed as cancelled"})


class LeasedTaskList(Out):
    items = fields.List(fields.Nested(LeasedTaskOut))
    next_cursor = fields.String(allow_none=True)


class TaskResultIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(RESULT_STATUSES))
    at = AtField(metadata={"description": "when it happened (default: now)"})
    detail = fields.Raw(allow_none=True, metadata={"description": "any JSON, kept as sent"})


class TaskResultOut(LeasedTaskOut):
    result_at = fields.String(allow_none=True)
    detail = fields.Raw(allow_none=True)


class ReportQuery(Schema):
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "json"]),
                           metadata={"description": "html: the page with charts embedded; "
                                                    "json: the ticket with its results"})


class KpisQuery(Schema):
    by = fields.String(load_default="playbook",
                       validate=validate.OneOf(["playbook", "channel", "manager", "tier",
                                                "offer"]),
                       metadata={"description": "one row per value of this; `offer`: the "
                                                "contacts of the period per offer and channel"})
    from_day = fields.String(data_key="from", metadata={
        "description": "first day of entry (by offer: of contact), YYYY-MM-DD (default: 30 "
                       "days before `to`)"})
    to_day = fields.String(data_key="to", metadata={
        "description": "last day of entry and of outcomes (by offer: of contact), YYYY-MM-DD "
                       "(default: today)"})


class KpisOut(Out):
    by = fields.String()
    from_day = fields.String(data_key="from")
    to_day = fields.String(data_key="to")
    rows = fields.List(fields.Dict(), metadata={"description": "one per value of `by`"})
    total = fields.Dict(metadata={"description": "every entry counted once"})


class HistoryOut(Out):
    playbook = fields.String()
    versions = fields.List(fields.Dict(), metadata={
        "description": "per stored version: its tickets with sizes, conversions, uplift and "
                       "verdict, `pooled`: the closed tickets' counts summed and judged together, "
                       "`readout`: the closed tickets pooled by ticket (Mantel-Haenszel) with "
                       "an interval valid at every daily look and its verdict (collecting, "
                       "works, does not work, no difference), and `offers`: results per "
                       "offer of the contacts naming its tickets"})
