"""A sweep: one SQL query per playbook selects its audience over every customer at once.

The query returns the matched ids with, per id, whether the customer opted out of everything and
which steps' conditions hold, so the groups and step counts need no second pass over the data.
An event-triggered playbook is previewed by replaying its stored events of the last
`REPLAY_WINDOW` through the same predicate, joined to the customers they belong to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapters.db.schema import customers, events
from engine.compilers.sql import SqlRenderer
from engine.config import Config
from engine.formats.values import FieldType
from engine.language.condition import Leaf
from engine.playbooks.playbook import Playbook
from engine.playbooks.selection import Selection, global_share, select_members

OPTED_OUT_ALL = Leaf("opt_out", "contains", "all", FieldType.LIST)
REPLAY_WINDOW = dt.timedelta(days=7)
FETCH_SIZE = 20_000


def sweep(conn: Connection, playbook: Playbook, config: Config, at: dt.datetime,
          cooldown_ids: Iterable[str] = ()) -> Selection:
    """The playbook's selection at `at`, computed in the database."""
    event_type = playbook.trigger.event
    renderer = SqlRenderer(customers, config, config.today(at), conn.dialect.name,
                           events if event_type else None)
    conditional = [step for step in playbook.steps if step.when is not None]
    columns = [customers.c.id, renderer.truth(OPTED_OUT_ALL),
               *(renderer.truth(step.when) for step in conditional if step.when is not None)]
    if event_type:
        columns.append(events.c.seq)  # last: the event each customer is matched on
    query = sa.select(*columns).where(renderer.render(playbook.selector))
    if event_type:
        query = (query.join_from(events, customers, events.c.customer_id == customers.c.id)
                 .where(events.c.type == event_type, events.c.at > at - REPLAY_WINDOW,
                        events.c.at <= at)
                 .order_by(customers.c.id, events.c.at, events.c.seq))
    # Per statement: Connection.execution_options would change the caller's connection for
    # good (in place since SQLAlchemy 2.0), and its later statements would be streamed too.
    result = conn.execute(query, execution_options={"yield_per": FETCH_SIZE})
    rows = [row for part in result.partitions() for row in part]
    if event_type:
        rows = _first_per_customer(rows)
    matched = [row[0] for row in rows]
    opted_out = [row[0] for row in rows if row[1]]
    step_members: dict[str, list[str]] = {step.id: matched for step in playbook.steps}
    for i, step in enumerate(conditional, start=2):
        step_members[step.id] = [row[0] for row in rows if row[i]]
    selection = select_members(playbook.id, playbook.version, playbook.holdout, matched,
                               cooldown_ids, opted_out, step_members,
                               global_share(config.global_control, playbook.contact_class))
    if event_type:
        selection = replace(selection, events={row[0]: row[-1] for row in rows})
    return selection


def _first_per_customer(rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    """A replay matches a customer once, on their earliest matching event."""
    seen: set[str] = set()
    first = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            first.append(row)
    return first
