"""tasks.reason, customers.bad_phone and task_audit: a result's reason code (config.yaml
`result_reasons`), the phone a result reported wrong, and task_audit: one row per task and act a person does to it besides its state (a supervisor's
reassignment, 转派): who, as which role, when, from which route and channel to which.

Written by hand like 0001-0018; tests/integration/db/test_migrations.py checks it matches
adapters.db.schema.metadata.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    # A result's reason code, and the phone a `bad_phone` reason reported wrong.
    op.add_column("tasks", sa.Column("reason", _text(32)))
    op.add_column("customers", sa.Column("bad_phone", _text()))
    op.create_table(
        "task_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", _text(128), nullable=False),
        sa.Column("role", _text(128), nullable=False),
        sa.Column("action", _text(32), nullable=False),
        sa.Column("from_route", _text(160), nullable=False),
        sa.Column("to_route", _text(160), nullable=False),
        sa.Column("from_channel", _text(32), nullable=False),
        sa.Column("to_channel", _text(32), nullable=False),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_task_audit"),
    )
    op.create_index("ix_task_audit_task_id", "task_audit", ["task_id"])
    # Append-only, as `audit` (0002): a reassignment's record is not rewritten afterwards.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER task_audit_no_{verb.lower()} BEFORE {verb} ON "
                       "task_audit BEGIN SELECT RAISE(ABORT, 'task_audit is append-only'); END")
        return
    op.execute("CREATE FUNCTION task_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN RAISE EXCEPTION 'task_audit is append-only'; END $$")
    op.execute("CREATE TRIGGER task_audit_append_only BEFORE UPDATE OR DELETE ON task_audit "
               "FOR EACH ROW EXECUTE FUNCTION task_audit_append_only()")


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("bad_phone")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("reason")
    op.drop_index("ix_task_audit_task_id", "task_audit")
    op.drop_table("task_audit")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION task_audit_append_only()")
