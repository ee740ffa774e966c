"""The schema: every table and index, as the Alembic migrations create them.

The migrations are the only thing that creates them; tests/integration/test_migrations.py
checks that this metadata and the migrated database agree. Columns carry the field names
conditions use, so the SQL renderer can be handed `customers` and find `arpu`, `churned_on`,
... by name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from engine import task as tk

# Deterministic constraint and index names, so the migrations and this metadata agree on every
# backend and a later migration can drop or alter them by name.
metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})


def text_c(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Strings compare by code point in every backend: PostgreSQL columns use COLLATE "C"."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Instants stored as naive UTC on every backend and returned aware, in UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


JSONDoc = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql")

customers = sa.Table(
    "customers", metadata,
    sa.Column("id", text_c(64), primary_key=True),
    sa.Column("name", text_c()),
    sa.Column("phone", text_c()),
    sa.Column("email", text_c()),
    sa.Column("birthday", sa.Date),
    sa.Column("joined_on", sa.Date, nullable=False),
    sa.Column("plan", text_c()),
    sa.Column("arpu", sa.Float),
    sa.Column("balance", sa.Float),
    sa.Column("usage_change_pct", sa.Float),
    sa.Column("churn_score", sa.Float),
    sa.Column("contract_end", sa.Date),
    sa.Column("last_active_on", sa.Date),
    sa.Column("churned_on", sa.Date),
    sa.Column("manager", text_c()),
    sa.Column("tags", text_c()),
    sa.Column("opt_out", text_c()),
    sa.Column("attrs", JSONDoc),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0020: the phone a result reported wrong (reason code with `bad_phone`); the
    # contact policy stops phone channels while `phone` still equals it, so an import that
    # brings a different phone clears the flag without anyone touching it.
    sa.Column("bad_phone", text_c()),
    # Sweeps select on these dates (churned within, contract ending, onboarding, birthdays).
    sa.Index("ix_customers_joined_on", "joined_on"),
    sa.Index("ix_customers_birthday", "birthday"),
    # Migration 0021: assignment counts each manager's customers; a manager lists theirs.
    sa.Index("ix_customers_manager", "manager"),
)


def _partial_index(column: str) -> sa.Index:
    """An index on the rows that have the date: sweeps only ever ask for a range of it (which
    implies a value), and most customers have none, so it stays small and cheap to build."""
    present = customers.c[column].is_not(None)
    return sa.Index(f"ix_customers_{column}", customers.c[column],
                    sqlite_where=present, postgresql_where=present)


_partial_index("churned_on")
_partial_index("contract_end")

events = sa.Table(
    "events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", text_c(128), unique=True),
    sa.Column("customer_id", text_c(64), nullable=False, index=True),
    sa.Column("type", text_c(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("data", JSONDoc),
    sa.Column("known_customer", sa.Boolean, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index("ix_events_type_at", "type", "at"),
)

playbook_versions = sa.Table(
    "playbook_versions", metadata,
    sa.Column("playbook", text_c(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
    # Migration 0019: why the version was published, when Tend wrote it (a promotion).
    sa.Column("reason", sa.Text),
)

# The offers a playbook version names are registered with it (migration 0013): a ticket's
# offers keep the content they had when it was planned, or the version is bumped.
offer_versions = sa.Table(
    "offer_versions", metadata,
    sa.Column("offer", text_c(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
)


# --- tickets: users, tickets and their members, approvals, audit, entries, tasks ---
# Appended for the ticket workflow (migration 0002). Ids of people are their names: audit rows
# and approvals must stay readable after a user is gone, so they hold the name, not a key.

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", text_c(128), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_hash", sa.Text),  # console sign-in (migration 0006); NULL: token only
)

user_roles = sa.Table(
    "user_roles", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("role", text_c(128), primary_key=True),
)

tokens = sa.Table(
    "tokens", metadata,
    sa.Column("hash", sa.String(64), primary_key=True),  # sha256 hex: the token is never stored
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("playbook_hash", sa.String(64), nullable=False),
    sa.Column("workflow", text_c(64), nullable=False),
    sa.Column("state", text_c(16), nullable=False, index=True),
    sa.Column("trigger", text_c(16), nullable=False),
    sa.Column("window_key", text_c(64), nullable=False),
    sa.Column("planned_at", UTCDateTime, nullable=False),
    sa.Column("planned_by", text_c(128), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("levels", JSONDoc, nullable=False),
    sa.Column("deadline", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("evaluate_after", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("rehearsal", JSONDoc),
    sa.Column("results", JSONDoc),
    sa.Column("cancel_reason", sa.Text),
    # Migration 0015: the playbook version's contact class (engine.policy), read by the
    # contact policy for every task of the ticket, handoffs and referrals included.
    sa.Column("contact_class", text_c(16), nullable=False, server_default="sales"),
    # A sweep of one window opens one ticket, however often it runs (overlapping schedulers).
    sa.UniqueConstraint("playbook", "window_key", name="uq_tickets_playbook_window_key"),
)

ticket_members = sa.Table(
    "ticket_members", metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True),
    sa.Column("customer_id", text_c(64), primary_key=True),
    sa.Column("grp", text_c(16), nullable=False),       # treatment | control | suppressed
    sa.Column("reason", text_c(16)),                    # the suppression reason
)

approvals = sa.Table(
    "approvals", metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True),
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("by", text_c(128), nullable=False),
    sa.Column("decision", text_c(16), nullable=False),  # approved | rejected
    sa.Column("comment", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", text_c(128), nullable=False),
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("action", text_c(32), nullable=False),
    sa.Column("from_state", text_c(16)),
    sa.Column("to_state", text_c(16), nullable=False),
    sa.Column("reason", sa.Text),
)

# Migration 0020: what happened to a task besides its state, one row per task and act (a
# supervisor's reassignment, 转派): who, as which role, when, from which route and channel to
# which. Append-only, like `audit` for tickets.
task_audit = sa.Table(
    "task_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.Integer, nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", text_c(128), nullable=False),
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("action", text_c(32), nullable=False),
    sa.Column("from_route", text_c(160), nullable=False),
    sa.Column("to_route", text_c(160), nullable=False),
    sa.Column("from_channel", text_c(32), nullable=False),
    sa.Column("to_channel", text_c(32), nullable=False),
    sa.Column("reason", sa.Text),
)

entries = sa.Table(
    "entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("grp", text_c(16), nullable=False),
    sa.Column("entered_at", UTCDateTime, nullable=False),
    # Migration 0019: the step variant a treatment entry was assigned (engine/variant.py).
    sa.Column("variant", text_c(64)),
    # Cooldown asks: did this customer enter this playbook after a given instant?
    sa.Index("ix_entries_playbook_customer_id_entered_at",
             "playbook", "customer_id", "entered_at"),
    # The customer's view asks: which tickets did this customer enter? (0017)
    sa.Index("ix_entries_customer_id", "customer_id"),
)

tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("entry_id", sa.Integer, nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("step", text_c(64), nullable=False),
    sa.Column("channel", text_c(32), nullable=False),
    sa.Column("route", text_c(160), nullable=False),
    sa.Column("state", text_c(16), nullable=False),
    sa.Column("idempotency_key", text_c(96), nullable=False, unique=True),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("payload", JSONDoc, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0004: a pulled task is held until its lease ends (then pulled again); a task
    # cancelled while held keeps it until the next pull has listed the cancel. The adapter's
    # best result so far is the state; when it happened and what it said are kept with it.
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("result_at", UTCDateTime),
    sa.Column("detail", JSONDoc),
    # Migration 0005: push deliveries tried so far; the worker retries, then dead-letters.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Migration 0008, the contact policy and step timing: when the task was first handed to an
    # adapter (a contact: frequency caps, capacity per day), its playbook's priority (claim
    # order, arbitration), which retry of its step it is (0: the first contact; retry_of: the
    # task it retries), and the step's `unless` and `retry` rules, so results and claims need
    # no playbook text.
    sa.Column("sent_at", UTCDateTime),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retry_of", sa.Integer),
    sa.Column("step_rules", JSONDoc),
    # Migration 0020: the result's reason code (config.yaml `result_reasons`), to count,
    # sort and export results by.
    sa.Column("reason", text_c(32)),
    # Dispatch asks: which tasks of a channel are due?
    sa.Index("ix_tasks_channel_state_due_at", "channel", "state", "due_at"),
    # The policy asks: what did this customer get lately? how much did a channel send today?
    sa.Index("ix_tasks_customer_id", "customer_id"),
    sa.Index("ix_tasks_channel_sent_at", "channel", "sent_at"),
    # The push worker asks (migration 0010): which of a channel's holds have ended? (cancels
    # due, pushes of a worker that died); found without reading its delivered tasks.
    sa.Index("ix_tasks_channel_lease_expires_at", "channel", "lease_expires_at"),
)

# Migration 0011: claimers (pull and push) take due tasks highest priority first, then oldest
# due. Walking this index, PostgreSQL stops after a batch's worth of open tasks instead of
# sorting every due task of the channels on every claim (a drain of N due tasks in batches
# of B was N²/B rows sorted). SQLite would never use it (a partial index serves only queries
# that repeat its WHERE term) and sorts its due tasks as before.
# Tasks no adapter has reported on (engine.task.OPEN): what claims take, a ticket's cancel
# or an answer on another channel stops, and what the claim order index holds.
OPEN = tk.OPEN
sa.Index("ix_tasks_claim_order", tasks.c.priority.desc(), tasks.c.due_at, tasks.c.id,
         postgresql_where=tasks.c.state.in_(OPEN)).ddl_if(dialect="postgresql")

scheduler_lease = sa.Table(
    "scheduler_lease", metadata,
    sa.Column("name", text_c(64), primary_key=True),
    sa.Column("holder", text_c(128), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)


# --- notices (migration 0003): who was told about which ticket level, and whether it went out ---

notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("kind", text_c(16), nullable=False),        # awaiting | overdue
    sa.Column("role", text_c(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),                     # NULL: not delivered yet, retried
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    # Deciding to notify is inserting this row: a second decision for one level conflicts.
    sa.UniqueConstraint("ticket_id", "level", "kind", name="uq_notices_ticket_id_level_kind"),
)


# --- churn model (migration 0007): what was known of each customer at the start of a month ---
# Features are read from here, never from today's row (which already knows who churned later).

customer_snapshots = sa.Table(
    "customer_snapshots", metadata,
    sa.Column("month", sa.Date, primary_key=True),          # the first day of the month
    sa.Column("customer_id", text_c(64), primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),            # the local day the values describe
    sa.Column("taken_at", UTCDateTime, nullable=False),
    sa.Column("tenure_days", sa.Integer, nullable=False),
    sa.Column("arpu", sa.Float),
    sa.Column("balance", sa.Float),
    sa.Column("usage_change_pct", sa.Float),
    sa.Column("days_inactive", sa.Integer),
    sa.Column("contract_days_left", sa.Integer),
    sa.Column("churned_on", sa.Date),                       # churned already, as known then
    sa.Column("event_counts", JSONDoc),                     # {type: n} in the 30 days before
)


# --- gathered event matches (migration 0009): matches waiting for their day's ticket ---
# An event-triggered playbook whose workflow is not standing records each match here; the
# matches of one local day become one planned ticket once the day is over.

event_matches = sa.Table(
    "event_matches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("day", sa.Date, nullable=False),              # local day the match was made
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),
    sa.Column("matched_at", UTCDateTime, nullable=False),
    # An event is gathered once per playbook, whoever retries it.
    sa.UniqueConstraint("event_seq", "playbook", name="uq_event_matches_event_seq_playbook"),
    sa.Index("ix_event_matches_playbook_day", "playbook", "day"),
)


# --- console sign-ins (migration 0012): failed attempts by account and address, live sessions ---

signin_failures = sa.Table(
    "signin_failures", metadata,
    sa.Column("key", text_c(320), primary_key=True),  # "account:<name>" or "address:<ip>"
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
)

console_sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the cookie's session id
    sa.Column("user_name", text_c(128), nullable=False, index=True),
    sa.Column("signed_in_at", UTCDateTime, nullable=False),
)


# --- the unified customer view (migration 0014): contacts every channel shares, views opened ---

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("id", text_c(64), primary_key=True),      # the client's id: a repeat writes nothing
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("channel", text_c(32), nullable=False),
    sa.Column("offer", text_c(64)),
    sa.Column("ticket_id", sa.Integer),
    sa.Column("outcome", text_c(16), nullable=False),   # engine.contact.OUTCOMES
    sa.Column("note", sa.Text),
    sa.Column("by", text_c(128), nullable=False),       # the user who recorded it
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("refer_to", JSONDoc),                     # {"channel", "route"} of a referral
    sa.Column("task_id", sa.Integer),                   # the task a referral made
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    # The view and the decline limit ask: this customer's contacts, newest first.
    sa.Index("ix_contacts_customer_id_at", "customer_id", "at"),
    # An offer's `limit` asks (migration 0018): how many times was it handled, up to the limit?
    sa.Index("ix_contacts_offer_outcome", "offer", "outcome"),
)

# Each channel's first sends per quarter hour (UTC slot from the epoch; migration 0022): what
# a channel's daily capacity reads, kept where `sent_at` is stamped (adapters/tasks/sends.py).
channel_sends = sa.Table(
    "channel_sends", metadata,
    sa.Column("channel", text_c(32), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sent", sa.Integer, nullable=False),
)

# How many times each offer was `handled`, on every channel (migration 0022): what an offer's
# `limit` counts, kept in the transaction that records the contact (adapters/view/contacts.py)
# so a view reads one row per offer instead of counting up to the limit in contacts.
offer_handled = sa.Table(
    "offer_handled", metadata,
    sa.Column("offer", text_c(64), primary_key=True),
    sa.Column("handled", sa.Integer, nullable=False),
)

customer_views = sa.Table(
    "customer_views", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_name", text_c(128), nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False, index=True),
    sa.Column("channel", text_c(32), nullable=False),
    sa.Column("viewed_at", UTCDateTime, nullable=False),
)

# Migration 0015: each call a person made on a task (the manager's desk). The task keeps its
# furthest result; the attempts keep every call, so the trajectory shows all of them.
task_attempts = sa.Table(
    "task_attempts", metadata,
    # made when the desk was drawn: a form sent twice is one call
    sa.Column("id", text_c(64), primary_key=True),
    sa.Column("task_id", sa.Integer, nullable=False, index=True),
    sa.Column("ticket_id", sa.Integer, nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("channel", text_c(32), nullable=False),
    sa.Column("status", text_c(16), nullable=False),       # engine.task.RESULTS
    sa.Column("note", sa.Text),
    sa.Column("by", text_c(128), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_task_attempts_customer_id_at", "customer_id", "at"),
)

# Migration 0021: each manager given to a customer by an assignment rule (划配), and by what.
assignments = sa.Table(
    "assignments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", text_c(64), nullable=False, index=True),
    sa.Column("manager", text_c(), nullable=False),
    sa.Column("rule", text_c(64), nullable=False),
    sa.Column("by", text_c(128), nullable=False),   # import, daily, or the user of tend assign
    sa.Column("at", UTCDateTime, nullable=False),
)
