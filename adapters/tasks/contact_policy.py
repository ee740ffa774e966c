"""The contact policy against the database: what a customer got lately, what a channel sent
today, and the decisions of engine.tasks.policy applied to task rows.

Twice per task: when it is made (`admit`: execution, standing entries, retries; `judge_new`
alone for the rehearsal) and when it is claimed to be sent (`screen`: the adapter pull and
the push worker). A held task stays `pending` with `due_at` moved on and the reason in
`detail`; a suppressed one is kept in state `suppressed` with its reason, never sent.

What counts as a contact: a task handed to an adapter (`sent_at`), unless its attempt
`failed`, it went `dead`, or it was cancelled or suppressed; when tasks are made, also the
customer's tasks still `pending`, at their due time (plans count against caps, so a later
plan does not crowd them out; arbitration decides between playbooks instead).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.engines import decode_list, one_of
from adapters.db.reads import Read
from adapters.db.schema import customers, entries, events, tasks, tickets
from adapters.tasks import sends
from engine.tasks import policy as pol
from engine.tasks import task as tk

SUPPRESSED = tk.SUPPRESSED
# Sent, yet no contact: the attempt failed, or no channel had the task at all.
NOT_CONTACTS = (tk.FAILED, *tk.STOPPED)
CHUNK = 2_000
CAPACITY_LOCK, CUSTOMER_LOCK = 7301, 7302  # advisory lock kinds (PostgreSQL)

# Built once (every customer view and every claim asks them): the customers' contacts in
# [start, end], sent and, for planning, also pending and due then; each channel's sends today.
_START: sa.BindParameter[dt.datetime] = sa.bindparam("start")
_END: sa.BindParameter[dt.datetime] = sa.bindparam("end")
_SENT = sa.and_(tasks.c.sent_at >= _START, tasks.c.sent_at <= _END,
                tasks.c.state.not_in(NOT_CONTACTS))
_PENDING = sa.and_(tasks.c.sent_at.is_(None), tasks.c.state == tk.PENDING,
                   tasks.c.due_at >= _START, tasks.c.due_at <= _END)
_CONTACTS = (sa.select(tasks.c.id, tasks.c.customer_id, tasks.c.channel, tasks.c.priority,
                       tasks.c.sent_at, tasks.c.due_at, tickets.c.playbook,
                       tickets.c.contact_class)
             .join(tickets, tickets.c.id == tasks.c.ticket_id)
             .where(tasks.c.customer_id.in_(sa.bindparam("ids", expanding=True))))
_SENT_CONTACTS, _PLANNED_CONTACTS = _CONTACTS.where(_SENT), _CONTACTS.where(sa.or_(_SENT, _PENDING))


def contacts(conn: Connection, customer_ids: Sequence[str], start: dt.datetime,
             end: dt.datetime, planned: bool) -> dict[str, list[pol.Contact]]:
    """The customers' contacts in [start, end]: tasks sent then, and with `planned` the
    pending unsent tasks due then."""
    found: dict[str, list[pol.Contact]] = {cid: [] for cid in customer_ids}
    for first in range(0, len(customer_ids), CHUNK):
        read = contacts_read(customer_ids[first:first + CHUNK], start, end, planned)
        add_contacts(found, conn.execute(read.query, dict(read.params)))
    return found


def contacts_read(customer_ids: Sequence[str], start: dt.datetime, end: dt.datetime,
                  planned: bool) -> Read:
    """The read of `contacts` for at most CHUNK customers, to batch with others
    (adapters.db.reads); `add_contacts` turns its rows into contacts."""
    return Read(_PLANNED_CONTACTS if planned else _SENT_CONTACTS,
                {"ids": list(customer_ids), "start": start, "end": end})


def add_contacts(found: dict[str, list[pol.Contact]], rows: Iterable[Any]) -> None:
    """The rows of a `contacts_read` added to each customer's contacts in `found`."""
    for row in rows:
        found[row.customer_id].append(pol.Contact(
            row.sent_at or row.due_at, row.channel, row.playbook, row.priority, row.id,
            row.sent_at is not None, row.contact_class))


def judge_new(conn: Connection, policy: pol.Policy, playbook: str,
              rows: Sequence[dict[str, Any]], kind: str = pol.SALES) -> dict[int, pol.Decision]:
    """Judge new task rows (execution.task_row) in place, each customer's in due order:
    a suppressed row gets state `suppressed`, a held one its new `due_at`, both a `detail`.
    Returns the planned tasks of lower-ranked playbooks that the new rows beat."""
    if not rows or not (policy.caps or policy.arbitration or policy.channels
                        or policy.phone_channels):
        return {}
    start = min(row["due_at"] for row in rows) - policy.lookback
    end = max(row["due_at"] for row in rows) + policy.lookback + dt.timedelta(days=1)
    people = sorted({row["customer_id"] for row in rows})
    known = contacts(conn, people, start, end, True)
    wrong = bad_phones(conn, people) if policy.phone_channels else set()
    beaten: dict[int, pol.Decision] = {}
    for row in sorted(rows, key=lambda r: (r["customer_id"], r["due_at"])):
        mine = known[row["customer_id"]]
        intent = pol.Intent(row["due_at"], row["channel"], playbook, row["priority"], kind=kind,
                            bad_phone=row["customer_id"] in wrong)
        decision, losers = pol.at_plan(policy, intent, mine)
        if decision.verdict == pol.SUPPRESS:
            row.update(state=SUPPRESSED, detail=decision.as_detail())
            continue
        if decision.verdict == pol.HOLD and decision.until is not None:
            row.update(due_at=decision.until, detail=decision.as_detail())
        for loser in losers:
            mine.remove(loser)
            if loser.task_id is not None:
                beaten[loser.task_id] = pol.Decision(
                    pol.SUPPRESS, pol.ARBITRATION,
                    note=f"{playbook} (priority {row['priority']}) contacts the customer "
                         f"at {row['due_at'].isoformat()}")
        mine.append(pol.Contact(row["due_at"], row["channel"], playbook, row["priority"],
                                None, False, kind))
    return beaten


def admit(conn: Connection, policy: pol.Policy, playbook: str,
          rows: Sequence[dict[str, Any]], now: dt.datetime, kind: str = pol.SALES) -> None:
    """`judge_new`, and the beaten tasks of other playbooks suppressed now (if still
    pending: one an adapter took meanwhile is a contact made)."""
    for task_id, decision in judge_new(conn, policy, playbook, rows, kind).items():
        conn.execute(tasks.update().where(tasks.c.id == task_id, tasks.c.state == tk.PENDING,
                                          tasks.c.sent_at.is_(None))
                     .values(state=SUPPRESSED, detail=decision.as_detail(), updated_at=now))


def bad_phones(conn: Connection, people: Sequence[str]) -> set[str]:
    """Of these customers, those whose phone now is the one a result reported wrong."""
    found: set[str] = set()
    for first in range(0, len(people), CHUNK):
        found.update(conn.scalars(sa.select(customers.c.id).where(
            customers.c.id.in_(people[first:first + CHUNK]),
            customers.c.bad_phone == customers.c.phone)))
    return found


def take_turns(conn: Connection, policy: pol.Policy, channels: Iterable[str]) -> None:
    """On PostgreSQL, claimers of a channel with a capacity take turns until commit (an
    advisory lock per channel, all taken at once in name order, before any claim, so no two
    claimers wait on each other crosswise): each then counts the sends the other committed,
    and two workers never both spend the last of a day's capacity. SQLite claimers already
    hold the write lock."""
    if conn.dialect.name != "postgresql":
        return
    for channel in sorted(c for c in set(channels) if policy.rules(c).capacity is not None):
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(*_lock_key(CAPACITY_LOCK, channel))))


def screen(conn: Connection, policy: pol.Policy, ids: Sequence[int],
           now: dt.datetime, stamp: bool = True) -> list[int]:
    """Of claimed task ids, in claim order, those that go out now (stamped `sent_at` on
    their first send, unless the caller does that itself: not `stamp`). The rest are held,
    suppressed, or cancelled by their step's `unless: converted`, in place. Quiet hours
    hold every hand-out, re-sends included; capacity, caps and arbitration judge a task's
    first send only."""
    if not ids:
        return []
    rows = conn.execute(
        sa.select(tasks.c.id, tasks.c.customer_id, tasks.c.channel, tasks.c.priority,
                  tasks.c.sent_at, tasks.c.step_rules, tasks.c.ticket_id, tickets.c.playbook,
                  tickets.c.contact_class, entries.c.entered_at, customers.c.opt_out,
                  customers.c.phone, customers.c.bad_phone)
        .outerjoin(tickets, tickets.c.id == tasks.c.ticket_id)
        .outerjoin(entries, entries.c.id == tasks.c.entry_id)
        .outerjoin(customers, customers.c.id == tasks.c.customer_id)
        .where(one_of(conn, tasks.c.id, ids))).all()
    by_id = {row.id: row for row in rows}
    busy = _claimed_elsewhere(conn, policy, {by_id[i].customer_id for i in ids
                                             if by_id[i].sent_at is None})
    ids = [i for i in ids if by_id[i].customer_id not in busy or by_id[i].sent_at is not None]
    first = [by_id[i] for i in ids if by_id[i].sent_at is None]
    settled = converted(conn, rows)
    recent = contacts(conn, sorted({r.customer_id for r in first}), now - policy.lookback, now,
                      False) if first and (policy.caps or policy.arbitration) else {}
    used = sent_today(conn, policy, {r.channel for r in first}, now)
    kept: list[int] = []
    for task_id in ids:
        row = by_id[task_id]
        if (row.step_rules or {}).get("unless") == "converted" and row.id in settled:
            _set(conn, task_id, now, state=tk.CANCELLED,
                 detail={"reason": "unless converted", "note": settled[row.id]})
            continue
        kind = row.contact_class or pol.SALES
        intent = pol.Intent(now, row.channel, row.playbook or "", row.priority,
                            decode_list(row.opt_out), kind,
                            row.bad_phone is not None and row.bad_phone == row.phone)
        if row.sent_at is not None:
            decision = pol.timing(policy, row.channel, now, None)
        else:
            mine = recent.get(row.customer_id, [])
            decision = pol.at_send(policy, intent, mine, used.get(row.channel))
        if decision.verdict == pol.HOLD:
            _set(conn, task_id, now, state=tk.PENDING, due_at=decision.until,
                 lease_expires_at=None, detail=decision.as_detail())
        elif decision.verdict == pol.SUPPRESS:
            _set(conn, task_id, now, state=SUPPRESSED, lease_expires_at=None,
                 detail=decision.as_detail())
        else:
            kept.append(task_id)
            if row.sent_at is None:
                if row.channel in used:
                    used[row.channel] += 1
                recent.setdefault(row.customer_id, []).append(pol.Contact(
                    now, row.channel, row.playbook or "", row.priority, row.id, kind=kind))
    fresh = [r for r in first if r.id in kept]
    # Stamped now, here or by the caller. Counted for the channels with a capacity alone:
    # their claimers take turns already (take_turns), where a count row shared by every
    # claimer of a channel would make claimers that never wait on each other wait.
    sends.count(conn, (r.channel for r in fresh if r.channel in used), now)
    if fresh and stamp:
        conn.execute(tasks.update().where(one_of(conn, tasks.c.id, [r.id for r in fresh]))
                     .values(sent_at=now))
    return kept


def _claimed_elsewhere(conn: Connection, policy: pol.Policy, people: Iterable[str]) -> set[str]:
    """Customers another PostgreSQL transaction is sending to right now (a try-lock per
    customer, held until commit): their first sends are left due for a later claim, as
    SKIP LOCKED leaves rows, since caps and arbitration cannot see uncommitted sends. Never
    waits, so never deadlocks. SQLite claimers hold the write lock: nothing to do."""
    if conn.dialect.name != "postgresql" or not (policy.caps or policy.arbitration):
        return set()
    busy = set()
    for person in sorted(people):
        if not conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(
                *_lock_key(CUSTOMER_LOCK, person)))):
            busy.add(person)
    return busy


def _lock_key(kind: int, name: str) -> tuple[int, int]:
    """PostgreSQL's two-integer advisory lock key: a kind, and the name's CRC-32 as int4."""
    return kind, zlib.crc32(name.encode()) - 2**31


def sent_today(conn: Connection, policy: pol.Policy, channels: Iterable[str],
               now: dt.datetime) -> dict[str, int]:
    """Tasks first sent on the local day of `now`, for the channels that have a capacity
    (`take_turns` first, so the count includes every other claimer's sends): the counts
    `screen` keeps (adapters/tasks/sends.py)."""
    read = sent_today_read(policy, channels, now)
    if read is None:
        return {}
    return sent_today_of(read, conn.execute(read.query, dict(read.params)))


def sent_today_read(policy: pol.Policy, channels: Iterable[str],
                    now: dt.datetime) -> Read | None:
    """The read of `sent_today`, to batch with others (adapters.db.reads); None when no
    channel of `channels` has a capacity (nothing to read)."""
    limited = sorted(c for c in channels if policy.rules(c).capacity is not None)
    if not limited:
        return None
    day = now.astimezone(policy.timezone).date()
    start = dt.datetime.combine(day, dt.time(0), policy.timezone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), policy.timezone)
    return sends.between_read(limited, start, end)


def sent_today_of(read: Read, rows: Iterable[Any]) -> dict[str, int]:
    """`sent_today` from the rows of its read: every limited channel, 0 when none sent."""
    counts = sends.counts_of(rows)
    return {channel: counts.get(channel, 0) for channel in read.params["channels"]}


def converted(conn: Connection, rows: Sequence[Any]) -> dict[int, str]:
    """Of these task rows, those with `unless: converted` whose customer reached the goal
    since they entered the playbook or accepted another step of the ticket, with what
    happened. Two queries for the whole claim, not two per task."""
    guarded = [r for r in rows if (r.step_rules or {}).get("unless") == "converted"]
    if not guarded:
        return {}
    people = sorted({r.customer_id for r in guarded})
    answers = {(t, c): f"step {step} was {state}" for t, c, step, state in conn.execute(
        sa.select(tasks.c.ticket_id, tasks.c.customer_id, tasks.c.step, tasks.c.state)
        .where(tasks.c.ticket_id.in_(sorted({r.ticket_id for r in guarded})),
               one_of(conn, tasks.c.customer_id, people), tasks.c.state.in_(tk.CLOSING)))}
    goals = sorted({r.step_rules["goal"] for r in guarded if r.step_rules.get("goal")})
    latest = {(c, kind): at for c, kind, at in conn.execute(
        sa.select(events.c.customer_id, events.c.type, sa.func.max(events.c.at))
        .where(one_of(conn, events.c.customer_id, people), events.c.type.in_(goals))
        .group_by(events.c.customer_id, events.c.type))} if goals else {}
    found: dict[int, str] = {}
    for row in guarded:
        goal = row.step_rules.get("goal")
        reached = latest.get((row.customer_id, goal))
        if (row.ticket_id, row.customer_id) in answers:
            found[row.id] = answers[(row.ticket_id, row.customer_id)]
        elif reached is not None and row.entered_at is not None and reached >= row.entered_at:
            found[row.id] = f"goal {goal} reached at {reached.isoformat()}"
    return found


def _set(conn: Connection, task_id: int, now: dt.datetime, **values: Any) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id).values(updated_at=now, **values))
