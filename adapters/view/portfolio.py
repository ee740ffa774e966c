"""A manager's customers (their portfolio, 名下客户): who they are and what is open for them.

`manager:<id>` reads the customers whose `manager` is `<id>` and nothing else: this list, each
customer's record (`GET /customers/<id>`) and view. The list is what a manager opens the day
with; it reads no contacts and logs no view (reading a list is not a contact).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import load_customers
from adapters.db.schema import customers, tasks
from engine.config import Config
from engine.language.customer import facts
from engine.privacy import mask_phone
from engine.tasks import task as tk


def customers_of(conn: Connection, config: Config, manager: str, now: dt.datetime,
                 after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A page of `manager`'s customers by id after `after`, each `{"id", "name", "phone"
    (masked), "tier", "stage", "open_tasks"}`, and the last id when more follow."""
    query = sa.select(customers.c.id).where(customers.c.manager == manager)
    if after is not None:
        query = query.where(customers.c.id > after)
    ids = list(conn.scalars(query.order_by(customers.c.id).limit(limit + 1)))
    more, ids = len(ids) > limit, ids[:limit]
    records = load_customers(conn, config, ids)
    counts = {row[0]: int(row[1]) for row in conn.execute(
        sa.select(tasks.c.customer_id, sa.func.count())
        .where(tasks.c.customer_id.in_(ids), tasks.c.state.in_(tk.OPEN))
        .group_by(tasks.c.customer_id))} if ids else {}
    today = config.today(now)
    items = []
    for cid in ids:
        record = records[cid]
        seen = facts(record, today, config.tiers, config.lifecycle)
        items.append({"id": cid, "name": record.get("name"),
                      "phone": mask_phone(record.get("phone")), "tier": seen.get("tier"),
                      "stage": seen.get("stage"), "open_tasks": int(counts.get(cid, 0))})
    return items, ids[-1] if more and ids else None
