"""Reassignment (转派): a supervisor hands waiting tasks to another manager or to a store.

All or nothing: every id is checked (known, the supervisor's, still waiting) before any is
moved, and the first problem is the whole answer. The task keeps its id, ticket, entry,
customer, key and due time, so its results still count on its ticket and the customer's
trajectory (contacts, results, the view's history) is unchanged; only who works it changes.
Each task moved writes one `task_audit` row (who, role, when, from where to where).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import begin_writes, iso
from adapters.db.schema import task_audit, tasks
from adapters.tasks.supervision import route_of
from engine.config import Config
from engine.errors import Forbidden, Invalid, NotFound
from engine.tasks import task as tk
from engine.tickets.users import User

MAX_TASKS = 1000  # one request's worth: a supervisor's selection, not a bulk migration
POOL = "pool"  # the route of a task its channel's adapter takes (a store's own queue)
ACTION = "reassign"


@dataclass(frozen=True)
class Target:
    """Where the tasks go: a manager's desk (`manager`, on the account manager channel the
    task had) or a store (`channel`: the store channel's pool, worked there)."""

    manager: str | None = None
    channel: str | None = None

    def route(self) -> str:
        return route_of(self.manager) if self.manager is not None else POOL


@dataclass(frozen=True)
class Moved:
    id: int
    from_route: str
    to_route: str
    from_channel: str
    to_channel: str


def reassign(conn: Connection, ids: Sequence[int], target: Target, *, actor: str, role: str,
             may_touch: Callable[[str], bool], reason: str | None,
             now: dt.datetime) -> list[Moved]:
    """Move the tasks `ids` to `target` and audit each; `may_touch(route)` says whether the
    caller may take a task from that route (a supervisor: their team's managers). Unknown
    ids are NotFound, another team's Forbidden, a task not waiting a Conflict (engine.tasks.task's
    `reassign` move), each naming the task, before anything is written. Call first in a
    write transaction."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise Invalid("ids: give at least one task id", {"ids": ["expected 1 or more ids"]})
    if len(wanted) > MAX_TASKS:
        raise Invalid(f"ids: at most {MAX_TASKS} tasks at once",
                      {"ids": [f"expected at most {MAX_TASKS} ids, got {len(wanted)}"]})
    begin_writes(conn)
    query = sa.select(tasks.c.id, tasks.c.route, tasks.c.channel, tasks.c.state,
                      tasks.c.sent_at).where(tasks.c.id.in_(wanted)).order_by(tasks.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = {row.id: row for row in conn.execute(query)}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise NotFound(f"no task {missing[0]}" + (f" (and {len(missing) - 1} more)"
                                                   if len(missing) > 1 else ""))
    for task_id in wanted:
        row = rows[task_id]
        if not may_touch(row.route):
            raise Forbidden(f"task {task_id} is routed to {row.route}: not a queue "
                            f"{actor} supervises")
    for task_id in wanted:
        row = rows[task_id]
        tk.move(task_id, row.state, tk.REASSIGN, sent=row.sent_at is not None)
    moved = []
    to_route = target.route()
    for task_id in wanted:
        row = rows[task_id]
        to_channel = target.channel or row.channel
        moved.append(Moved(task_id, row.route, to_route, row.channel, to_channel))
    by_channel: dict[str, list[int]] = {}
    for m in moved:
        by_channel.setdefault(m.to_channel, []).append(m.id)
    for channel, chunk in by_channel.items():
        conn.execute(tasks.update().where(tasks.c.id.in_(chunk))
                     .values(route=to_route, channel=channel, updated_at=now))
    conn.execute(task_audit.insert(), [
        {"task_id": m.id, "at": now, "actor": actor, "role": role, "action": ACTION,
         "from_route": m.from_route, "to_route": m.to_route, "from_channel": m.from_channel,
         "to_channel": m.to_channel, "reason": reason} for m in moved])
    return moved


def checked_target(config: Config, roles: frozenset[str], manager: str | None = None,
                   channel: str | None = None) -> Target:
    """The target, checked against config.yaml and the caller's teams: a manager of a team
    they supervise, or a store channel (`supervision.stores`). Invalid naming `target.manager` or
    `target.channel` (the API's fields; the console's form uses the same names)."""
    if channel is not None:
        stores = ", ".join(config.supervision.stores) or "(no supervision.stores)"
        if channel not in config.supervision.stores:
            raise Invalid(f"target.channel: {channel!r} is not a store", {"target": {
                "channel": [f"expected one of {stores}"]}})
        return Target(channel=channel)
    managers = config.supervision.supervised(config.supervision.teams_for(roles))
    if manager not in managers:
        raise Invalid(f"target.manager: {manager!r} is not a manager of your teams",
                      {"target": {"manager": [
                          f"expected one of {', '.join(sorted(managers)) or '(none)'}"]}})
    return Target(manager=manager)


def reassign_as(conn: Connection, config: Config, user: User, ids: Sequence[int],
                target: Target, reason: str | None, now: dt.datetime) -> list[Moved]:
    """`reassign` on behalf of `user`: an admin any task, a supervisor those in the queues
    of their teams' managers; the audit names the supervisor roles acted under."""
    is_admin = "admin" in user.roles
    routes = config.supervision.routes_for(user.roles)
    role = "admin" if is_admin else ",".join(sorted(r for r in user.roles
                                                    if r.startswith("supervisor:")))
    return reassign(conn, ids, target, actor=user.name, role=role,
                    may_touch=lambda route: is_admin or route in routes, reason=reason,
                    now=now)


def history(conn: Connection, task_id: int) -> list[dict[str, object]]:
    """A task's audit rows, oldest first (the reassignments it went through)."""
    return [{"at": iso(row.at), "actor": row.actor, "role": row.role, "action": row.action,
             "from_route": row.from_route, "to_route": row.to_route,
             "from_channel": row.from_channel, "to_channel": row.to_channel,
             "reason": row.reason}
            for row in conn.execute(sa.select(task_audit).where(task_audit.c.task_id == task_id)
                                    .order_by(task_audit.c.id))]


def current_route(conn: Connection, task_id: int) -> str:
    """Where the task is routed now; NotFound for an unknown id."""
    route = conn.scalar(sa.select(tasks.c.route).where(tasks.c.id == task_id))
    if route is None:
        raise NotFound(f"no task {task_id}")
    return str(route)
