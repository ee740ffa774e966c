"""Tickets: users and tokens, tickets with members, approvals, audit, entries, tasks, lease.

Written by hand like 0001; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata. The audit table is append-only in the database itself: triggers refuse
UPDATE and DELETE, so no code path (or person with a SQL shell and the app's login) can
rewrite history by accident.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", _text(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", _text(128), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
    )
    op.create_table(
        "tokens",
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("hash", name="pk_tokens"),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("playbook", _text(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("playbook_hash", sa.String(64), nullable=False),
        sa.Column("workflow", _text(64), nullable=False),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("trigger", _text(16), nullable=False),
        sa.Column("window_key", _text(64), nullable=False),
        sa.Column("planned_at", sa.DateTime(), nullable=False),
        sa.Column("planned_by", _text(128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("levels", _json(), nullable=False),
        sa.Column("deadline", sa.DateTime()),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("evaluate_after", sa.DateTime()),
        sa.Column("closed_at", sa.DateTime()),
        sa.Column("rehearsal", _json()),
        sa.Column("results", _json()),
        sa.Column("cancel_reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("playbook", "window_key", name="uq_tickets_playbook_window_key"),
    )
    op.create_index("ix_tickets_state", "tickets", ["state"])

    op.create_table(
        "ticket_members",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("grp", _text(16), nullable=False),
        sa.Column("reason", _text(16)),
        sa.PrimaryKeyConstraint("ticket_id", "customer_id", name="pk_ticket_members"),
    )
    op.create_table(
        "approvals",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("role", _text(128), nullable=False),
        sa.Column("by", _text(128), nullable=False),
        sa.Column("decision", _text(16), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "level", name="pk_approvals"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", _text(128), nullable=False),
        sa.Column("role", _text(128), nullable=False),
        sa.Column("action", _text(32), nullable=False),
        sa.Column("from_state", _text(16)),
        sa.Column("to_state", _text(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_ticket_id", "audit", ["ticket_id"])
    _append_only("audit")

    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("playbook", _text(64), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("grp", _text(16), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
    )
    op.create_index("ix_entries_ticket_id", "entries", ["ticket_id"])
    op.create_index("ix_entries_playbook_customer_id_entered_at", "entries",
                    ["playbook", "customer_id", "entered_at"])

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", _text(64), nullable=False),
        sa.Column("step", _text(64), nullable=False),
        sa.Column("channel", _text(32), nullable=False),
        sa.Column("route", _text(160), nullable=False),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("idempotency_key", _text(96), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.UniqueConstraint("idempotency_key", name="uq_tasks_idempotency_key"),
    )
    op.create_index("ix_tasks_ticket_id", "tasks", ["ticket_id"])
    op.create_index("ix_tasks_channel_state_due_at", "tasks", ["channel", "state", "due_at"])

    op.create_table(
        "scheduler_lease",
        sa.Column("name", _text(64), nullable=False),
        sa.Column("holder", _text(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lease"),
    )


def _append_only(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on `table`."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        return
    op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade() -> None:
    for table in ("scheduler_lease", "tasks", "entries", "audit", "approvals", "ticket_members",
                  "tickets", "tokens", "user_roles", "users"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_append_only()")
