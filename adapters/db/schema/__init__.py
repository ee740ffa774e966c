"""The schema: every table and index, as the Alembic migrations create them, assembled here
from one module per noun (customers, playbook versions, access, tickets, tasks) into one
`metadata`. The stores import their tables from this package, the one place they come from.

The migrations are the only thing that creates them; tests/integration/db/test_migrations.py
checks that this metadata and the migrated database agree. Columns carry the field names
conditions use, so the SQL renderer can be handed `customers` and find `arpu`, `churned_on`,
... by name.
"""

from adapters.db.schema.access_tables import (
    console_sessions,
    signin_failures,
    tokens,
    user_roles,
    users,
)
from adapters.db.schema.columns import JSONDoc, UTCDateTime, metadata, text_c
from adapters.db.schema.customer_tables import (
    assignments,
    contacts,
    customer_snapshots,
    customer_views,
    customers,
    event_matches,
    events,
    offer_handled,
)
from adapters.db.schema.playbook_tables import offer_versions, playbook_versions
from adapters.db.schema.task_tables import OPEN, channel_sends, task_attempts, task_audit, tasks
from adapters.db.schema.ticket_tables import (
    approvals,
    audit,
    entries,
    notices,
    scheduler_lease,
    ticket_members,
    tickets,
)

__all__ = [
    "OPEN",
    "JSONDoc",
    "UTCDateTime",
    "approvals",
    "assignments",
    "audit",
    "channel_sends",
    "console_sessions",
    "contacts",
    "customer_snapshots",
    "customer_views",
    "customers",
    "entries",
    "event_matches",
    "events",
    "metadata",
    "notices",
    "offer_handled",
    "offer_versions",
    "playbook_versions",
    "scheduler_lease",
    "signin_failures",
    "task_attempts",
    "task_audit",
    "tasks",
    "text_c",
    "ticket_members",
    "tickets",
    "tokens",
    "user_roles",
    "users",
]
