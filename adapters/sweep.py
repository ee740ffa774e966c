"""A sweep: one SQL query per playbook selects its audience over every customer at once.

The query returns the matched ids with, per id, whether the customer opted out of everything and
which steps' conditions hold, so the groups and step counts need no second pass over the data.
An event-triggered playbook is previewed by replaying its stored events of the last
`REPLAY_WINDOW` through the same predicate, joined to the customers they belong to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db import customers, events
from engine.condition import Leaf
from engine.config import Config
from engine.playbook import Playbook
from engine.selection import Selection, select_members
from engine.sql import Predicate, SqlRenderer
from engine.values import FieldType

OPTED_OUT_ALL = Leaf("opt_out", "contains", "all", FieldType.LIST)
REPLAY_WINDOW = dt.timedelta(days=7)


def audience_predicate(renderer: SqlRenderer, playbook: Playbook) -> Predicate:
    """matched = audience true and exclude false."""
    audience = renderer.render(playbook.audience)
    if playbook.exclude is None:
        return audience
    return sa.and_(audience, sa.not_(renderer.truth(playbook.exclude)))


def sweep(conn: Connection, playbook: Playbook, config: Config, at: dt.datetime,
          cooldown_ids: Iterable[str] = ()) -> Selection:
    """The playbook's selection at `at`, computed in the database."""
    event_type = playbook.trigger.event
    renderer = SqlRenderer(customers, config, config.today(at), conn.dialect.name,
                           events if event_type else None)
    conditional = [step for step in playbook.steps if step.when is not None]
    columns = [customers.c.id, renderer.truth(OPTED_OUT_ALL),
               *(renderer.truth(step.when) for step in conditional if step.when is not None)]
    query = sa.select(*columns).where(audience_predicate(renderer, playbook))
    if event_type:
        query = (query.join_from(events, customers, events.c.customer_id == customers.c.id)
                 .where(events.c.type == event_type, events.c.at > at - REPLAY_WINDOW,
                        events.c.at <= at)
                 .order_by(customers.c.id, events.c.seq))
    matched: list[str] = []
    seen: set[str] = set()
    opted_out: list[str] = []
    step_members: dict[str, list[str]] = {step.id: [] for step in playbook.steps}
    unconditional = [step.id for step in playbook.steps if step.when is None]
    for row in conn.execute(query):
        cid = row[0]
        if cid in seen:
            continue
        seen.add(cid)
        matched.append(cid)
        if row[1]:
            opted_out.append(cid)
        for step, holds in zip(conditional, row[2:], strict=True):
            if holds:
                step_members[step.id].append(cid)
    for step_id in unconditional:
        step_members[step_id] = matched
    return select_members(playbook.id, playbook.version, playbook.holdout, matched,
                          cooldown_ids, opted_out, step_members)
