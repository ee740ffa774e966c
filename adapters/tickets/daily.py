"""Daily gathered tickets: the matches of an event-triggered playbook whose workflow is not
standing wait for their day's ticket instead of entering customers at once.

Each match of such a playbook (durable-rules, inside `POST /events` or `tend import events`)
is one `event_matches` row: customer, event, playbook version and the local day it was made
on. Once a day is over, the scheduler (or `tend sweep --at T`, for the days before T) plans one
ticket of the playbook for that day, window `day:<YYYY-MM-DD>`, so a repeated run opens nothing
twice. Its members are the day's matched customers, less those the playbook's `exclude` now
holds for, split by the selection rules of every ticket (cooldown, opted out, holdout); it is
rehearsed and approved like a swept ticket.

Decisions DESIGN.md leaves open:
- The day is that of the moment the event was matched, not of `event.at`: a late event still
  joins a day whose ticket is not planned yet.
- A playbook has at most one planned ticket, so a day's ticket supersedes the previous day's
  when that one still waits; the superseded day's matches then carry over into the newer ticket,
  and nobody gathered is lost by a slow approval. A rejected or cancelled day's are dropped.
- The ticket is planned on the version in force when it is planned; matches made under an
  earlier version that day are members too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import customers, event_matches, events
from adapters.db.schema import tickets as ticket_table
from adapters.tickets import service as tickets
from adapters.tickets.planning import cooldown_ids
from adapters.tickets.sweep import OPTED_OUT_ALL
from engine.compilers.sql import SqlRenderer
from engine.config import Config
from engine.language.condition import Not
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.selection import Selection, global_share, select_members
from engine.tickets import ticket as tk

PREFIX = "day:"


def gathers(library: Library, playbook: Playbook) -> bool:
    """Event-triggered with a workflow that is not standing: its matches wait for the day."""
    workflow = library.workflows.get(playbook.workflow)
    return bool(playbook.trigger.event) and workflow is not None and not workflow.standing


def window_key(day: dt.date) -> str:
    return PREFIX + day.isoformat()


def gather(conn: Connection, config: Config, lines: Sequence[dict[str, Any]],
           now: dt.datetime) -> None:
    """Record matches (report lines of adapters/tickets/standing.py: seq, customer_id, playbook,
    version) for today's ticket, and say so in each line."""
    day = config.today(now)
    conn.execute(event_matches.insert(), [
        {"playbook": line["playbook"], "version": line["version"], "day": day,
         "customer_id": line["customer_id"], "event_seq": line["seq"], "matched_at": now}
        for line in lines])
    for line in lines:
        line["reason"] = f"gathered for the daily ticket of {day.isoformat()}"


def plan_days(conn: Connection, config: Config, library: Library,
              at: dt.datetime) -> list[dict[str, Any]]:
    """Plan the ticket of every day before `at`'s local day that has gathered matches and no
    ticket yet, oldest day first; the tickets opened."""
    today = config.today(at)
    opened = []
    for playbook in sorted(library.playbooks.values(), key=lambda p: p.id):
        if not gathers(library, playbook):
            continue
        planned = set(conn.scalars(sa.select(ticket_table.c.window_key).where(
            ticket_table.c.playbook == playbook.id,
            ticket_table.c.window_key.startswith(PREFIX))))
        days = conn.scalars(sa.select(event_matches.c.day).distinct().where(
            event_matches.c.playbook == playbook.id, event_matches.c.day < today)
            .order_by(event_matches.c.day))
        for day in [d for d in days if window_key(d) not in planned]:
            ticket = tickets.plan(conn, config, library, playbook, at, "event", tk.SYSTEM,
                                  window_key=window_key(day),
                                  selection=selection(conn, config, playbook, day, at))
            if ticket is not None:
                opened.append(ticket)
    return opened


def selection(conn: Connection, config: Config, playbook: Playbook, day: dt.date,
              at: dt.datetime) -> Selection:
    """The members of `day`'s ticket at `at`: the customers matched that day (and on earlier
    days whose ticket was or is about to be superseded), each judged on its first matching
    event of those days."""
    days = [day, *_superseded_days(conn, playbook, day)]
    renderer = SqlRenderer(customers, config, config.today(at), conn.dialect.name, events)
    conditional = [step for step in playbook.steps if step.when is not None]
    query = (sa.select(customers.c.id, renderer.truth(OPTED_OUT_ALL),
                       *(renderer.truth(step.when) for step in conditional
                         if step.when is not None), events.c.seq)
             .select_from(event_matches)
             .join(events, events.c.seq == event_matches.c.event_seq)
             .join(customers, customers.c.id == event_matches.c.customer_id)
             .where(event_matches.c.playbook == playbook.id, event_matches.c.day.in_(days))
             .order_by(customers.c.id, events.c.at, events.c.seq))
    if playbook.exclude is not None:
        query = query.where(renderer.render(Not(playbook.exclude)))
    rows, seen = [], set()
    for row in conn.execute(query):
        if row[0] not in seen:
            seen.add(row[0])
            rows.append(row)
    matched = [row[0] for row in rows]
    step_members = {step.id: matched for step in playbook.steps}
    for i, step in enumerate(conditional, start=2):
        step_members[step.id] = [row[0] for row in rows if row[i]]
    chosen = select_members(playbook.id, playbook.version, playbook.holdout, matched,
                            cooldown_ids(conn, playbook, at, matched),
                            [row[0] for row in rows if row[1]], step_members,
                            global_share(config.global_control, playbook.contact_class))
    return replace(chosen, events={row[0]: row[-1] for row in rows})


def _superseded_days(conn: Connection, playbook: Playbook, day: dt.date) -> list[dt.date]:
    """The days before `day` whose tickets were superseded one after the other, back to the
    last day whose ticket was not, the one still planned (which `day`'s ticket supersedes)
    included: their matches carry over into `day`'s ticket."""
    rows = conn.execute(sa.select(ticket_table.c.window_key, ticket_table.c.state,
                                  ticket_table.c.cancel_reason)
                        .where(ticket_table.c.playbook == playbook.id,
                               ticket_table.c.window_key.startswith(PREFIX))).all()
    earlier = sorted(((dt.date.fromisoformat(key[len(PREFIX):]), state, reason)
                      for key, state, reason in rows if key[len(PREFIX):] < day.isoformat()),
                     reverse=True)
    carried = []
    for earlier_day, state, reason in earlier:
        if state != "planned" and reason != tk.SUPERSEDED:
            break
        carried.append(earlier_day)
    return carried
