"""Tasks (one contact of one customer by one channel), their audit of acts besides state,
and the calls people made on them (the manager's desk)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.db.schema.columns import JSONDoc, UTCDateTime, metadata, text_c
from engine.tasks import task as tk

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
# Tasks no adapter has reported on (engine.tasks.task.OPEN): what claims take, a ticket's cancel
# or an answer on another channel stops, and what the claim order index holds.
OPEN = tk.OPEN
sa.Index("ix_tasks_claim_order", tasks.c.priority.desc(), tasks.c.due_at, tasks.c.id,
         postgresql_where=tasks.c.state.in_(OPEN)).ddl_if(dialect="postgresql")

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
    sa.Column("status", text_c(16), nullable=False),       # engine.tasks.task.RESULTS
    sa.Column("note", sa.Text),
    sa.Column("by", text_c(128), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_task_attempts_customer_id_at", "customer_id", "at"),
)


# Each channel's first sends per quarter hour (UTC slot from the epoch; migration 0022): what
# a channel's daily capacity reads, kept where `sent_at` is stamped (adapters/tasks/sends.py).
channel_sends = sa.Table(
    "channel_sends", metadata,
    sa.Column("channel", text_c(32), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sent", sa.Integer, nullable=False),
)
