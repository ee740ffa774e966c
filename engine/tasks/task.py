"""The task lifecycle: one vocabulary of task states, one table of the events that move them.

A task is one contact planned for one customer on one channel. It waits (`pending`), is held
by an adapter that pulled it (`leased`) or by the worker pushing it (`pushed`), and then
carries the furthest result reported on it (`delivered` ... `converted`). The contact policy
may `suppress` it, an answer, the goal or its ticket may `cancel` it, and the push worker may
give up on it (`dead`) until an operator revives it. Every module names states and sets
from here, and a move the table does not list is a Conflict, so a result can never be
written over a task that no channel ever had (a suppressed one, one cancelled before it was
sent) or one the worker gave up on (dead).

Results arrive late, twice, or out of order: an adapter may report `delivered` after
`accepted` (a delivery receipt overtaking the reply), or retry a report. A task keeps the
furthest stage reached: a later-stage result replaces an earlier one, never the reverse, and
at one stage the first word stands; a result that changes nothing is a harmless repeat, not
a Conflict. tests/unit/tasks/test_task.py checks every state against every event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.errors import Conflict

NEW = "new"  # a task being made: not a stored state
# A task cancelled after an adapter or worker had it (`sent_at` set): stored as `cancelled`,
# but what went out may still be answered, so a late result is taken (not a stored state).
CANCELLED_SENT = "cancelled after sending"
# A pending task routed to a person (`manager:<id>`: on an account manager's desk): the
# person has it and records the result of the call they make. A pending task of an
# adapter's channel has reached no channel yet, so a result on it is refused (not stored).
AT_DESK = "pending on a person's desk"
PERSON_ROUTE = "manager:"  # the route prefix of a task a person works (adapters' is `pool`)
PENDING = "pending"      # waiting to be due; also held by quiet hours, capacity or a retry
LEASED = "leased"        # pulled by an adapter, until its lease ends
PUSHED = "pushed"        # being pushed by a worker, until its hold ends
SUPPRESSED = "suppressed"  # the contact policy refused it (reason in `detail`): never sent
CANCELLED = "cancelled"  # its ticket, an answer on another step or the goal stopped it
DEAD = "dead"            # the push worker gave up (reason in `detail`)

# How far the contact got: an attempt failed < it reached the customer < they talked <
# they answered the offer < they converted. Each result is a state and an event.
STAGE: Mapping[str, int] = {"failed": 0, "no_answer": 0, "delivered": 1, "connected": 2,
                            "accepted": 3, "declined": 3, "converted": 4}
RESULTS = tuple(STAGE)
DELIVERED = "delivered"
FAILED = "failed"
STATES = (PENDING, LEASED, PUSHED, *RESULTS, SUPPRESSED, CANCELLED, DEAD)

# Events besides the results.
MAKE = "make"            # execution, a standing entry, a retry or a handoff makes the task
LEASE = "lease"          # an adapter pulls it (again, once a lease ran out)
PUSH = "push"            # a worker claims it (again, once a hold ran out)
HOLD = "hold"            # quiet hours or capacity at the claim: it waits, unsent
SUPPRESS = "suppress"    # the contact policy, when the task is made or first claimed
CANCEL = "cancel"        # its ticket, an answer on another step, the goal, `unless`
RETRY_LATER = "retry_later"  # a push failed and is tried again after a backoff
GIVE_UP = "give_up"      # a push failed for good
REVIVE = "revive"        # an operator puts a dead task back (POST /tasks/<id>/retry)
WITHDRAW = "withdraw"    # a push receiver took the cancel of a task it holds
REASSIGN = "reassign"    # a supervisor hands a waiting task to another manager or a store

_OPEN = (PENDING, LEASED, PUSHED)


def _after(state: str, result: str) -> str:
    """A result moves an open task to it; on a result it moves only to a later stage."""
    if state in (*_OPEN, AT_DESK, CANCELLED_SENT) or STAGE[result] > STAGE[state]:
        return result
    return state


# (state, event) → next state. Anything not listed is a Conflict.
TRANSITIONS: Mapping[tuple[str, str], str] = {
    (NEW, MAKE): PENDING,
    (NEW, SUPPRESS): SUPPRESSED,
    (PENDING, LEASE): LEASED,
    (LEASED, LEASE): LEASED,
    (PENDING, PUSH): PUSHED,
    (PUSHED, PUSH): PUSHED,
    (PENDING, HOLD): PENDING,
    (LEASED, HOLD): PENDING,
    (PUSHED, HOLD): PENDING,
    # Only a first send is judged by caps and arbitration: a task an adapter held is a
    # contact made and is not taken back.
    (PENDING, SUPPRESS): SUPPRESSED,
    **{(state, CANCEL): CANCELLED for state in _OPEN},
    (PUSHED, RETRY_LATER): PENDING,
    (PUSHED, GIVE_UP): DEAD,
    (DEAD, REVIVE): PENDING,
    # 转派: only a task still waiting changes hands; one a channel holds is that channel's.
    (PENDING, REASSIGN): PENDING,
    (DELIVERED, WITHDRAW): CANCELLED,
    (CANCELLED, WITHDRAW): CANCELLED,
    # Results: from a task a channel has (an adapter's lease or a worker's push, a person's
    # desk), or over an earlier result. Never from a task still waiting for its channel,
    # nor from suppressed, cancelled or dead.
    **{(state, result): _after(state, result)
       for state in (LEASED, PUSHED, AT_DESK, CANCELLED_SENT, *RESULTS) for result in RESULTS},
}
EVENTS = tuple(dict.fromkeys(event for _, event in TRANSITIONS))


def sources(*events: str) -> tuple[str, ...]:
    """The states from which one of `events` is allowed, in STATES order (for a query's
    `state IN (...)`)."""
    return tuple(s for s in STATES if any(_allowed(s, e) for e in events))


def _allowed(state: str, event: str) -> bool:
    """Whether the table moves `state` on `event` in some case (a pending task on a desk)."""
    return (state, event) in TRANSITIONS or (state == PENDING and (AT_DESK, event) in TRANSITIONS)


# Waiting for or held by a channel: cancelling one stops a contact (adapters.db.schema.OPEN).
OPEN = sources(CANCEL)
# A channel had the task: an adapter or worker holds it, or a result came back.
REACHED = tuple(s for s in STATES if s in (LEASED, PUSHED) or s in STAGE)
# A result may be recorded on these (and on a cancelled task that had gone out).
REPORTABLE = sources(*RESULTS)
# No contact will come of these, and no result is taken on them unless it went out.
STOPPED = tuple(s for s in STATES if s not in REPORTABLE)
# Nothing moves these to another state.
FINAL = tuple(s for s in STATES
              if all(t == s for (f, _), t in TRANSITIONS.items()
                     if f == s or (s == CANCELLED and f == CANCELLED_SENT)))
# Results that settle the customer's answer for the whole ticket: other channels stop.
CLOSING = ("accepted", "converted")


def move(task_id: int | None, state: str, event: str, sent: bool = False,
         desk: bool = False) -> str:
    """The task's state after `event` (`sent`: the task has been handed to a channel, its
    `sent_at`; `desk`: it is routed to a person); Conflict naming the state if the table has
    no such move. A result that changes nothing returns `state` itself (a harmless repeat)."""
    target = TRANSITIONS.get((state, event))
    if target is None and state == CANCELLED and sent:
        target = TRANSITIONS.get((CANCELLED_SENT, event))
    if target is None and state == PENDING and desk:
        target = TRANSITIONS.get((AT_DESK, event))
    if target is None:
        doing = f"take the result {event}" if event in STAGE else event.replace("_", " ")
        raise Conflict(f"task {task_id} is {state}: cannot {doing}")
    return target


def actionable(events: Iterable[str]) -> tuple[str, ...]:
    """The states in which one of `events` would still change the task: what a person
    offered those events can act on (the manager's desk)."""
    wanted = set(events)
    return tuple(s for s in STATES
                 if any(TRANSITIONS.get((AT_DESK if s == PENDING else s, e), s) != s
                        for e in wanted))


def closes_siblings(status: str) -> bool:
    return status in CLOSING
