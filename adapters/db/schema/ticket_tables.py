"""Tickets and what hangs on them: members, approvals, the audit trail, entries (who was
selected, treatment or control), the notices sent to approvers, and the scheduler's lease."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.db.schema.columns import JSONDoc, UTCDateTime, metadata, text_c

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
    # Migration 0015: the playbook version's contact class (engine.tasks.policy), read by the
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

entries = sa.Table(
    "entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", text_c(64), nullable=False),
    sa.Column("customer_id", text_c(64), nullable=False),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("grp", text_c(16), nullable=False),
    sa.Column("entered_at", UTCDateTime, nullable=False),
    # Migration 0019: the step variant a treatment entry was assigned (engine/playbooks/variant.py).
    sa.Column("variant", text_c(64)),
    # Cooldown asks: did this customer enter this playbook after a given instant?
    sa.Index("ix_entries_playbook_customer_id_entered_at",
             "playbook", "customer_id", "entered_at"),
    # The customer's view asks: which tickets did this customer enter? (0017)
    sa.Index("ix_entries_customer_id", "customer_id"),
)

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
