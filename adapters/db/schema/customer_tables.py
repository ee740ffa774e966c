"""Customers and what is known of them: their events, monthly snapshots for the churn model,
event matches waiting for their day's ticket, the contacts every channel shares, views opened
in the console, and the managers assignment rules gave them."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.db.schema.columns import JSONDoc, UTCDateTime, metadata, text_c

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


# --- the unified customer view (migration 0014): contacts every channel shares, views opened ---

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("id", text_c(64), primary_key=True),      # the client's id: a repeat writes nothing
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("channel", text_c(32), nullable=False),
    sa.Column("offer", text_c(64)),
    sa.Column("ticket_id", sa.Integer),
    sa.Column("outcome", text_c(16), nullable=False),   # engine.tasks.contact.OUTCOMES
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
