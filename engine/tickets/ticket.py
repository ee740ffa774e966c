"""The ticket state machine: one transitions table, one function that moves a ticket.

A ticket carries one campaign run: planned → approved → executing → evaluating → closed, or
rejected / cancelled. Everything that changes a ticket's state goes through `transition`,
which consults TRANSITIONS and returns the new ticket together with its audit record, so a
state change without its audit row cannot be written. The approval rules (who may approve
which level) live here too, pure, so they are tested without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.errors import Conflict, Forbidden
from engine.playbooks.workflow import Workflow, levels_for
from engine.tickets.users import User

NEW = "new"  # a ticket being opened: not a stored state; its audit row has no from_state
STATES = ("planned", "approved", "executing", "evaluating", "closed", "rejected", "cancelled")
SYSTEM = "system"  # actor and role of the changes time makes (start, evaluate, close)
SUPERSEDED = "superseded"

# (state, action) → next state. Anything not listed is a Conflict. `approve_level` is an
# approval that leaves levels to go; `approve` is the last one.
TRANSITIONS: Mapping[tuple[str, str], str] = {
    (NEW, "plan"): "planned",
    ("planned", "approve_level"): "planned",
    ("planned", "approve"): "approved",
    ("planned", "reject"): "rejected",
    ("planned", "cancel"): "cancelled",
    ("planned", "supersede"): "cancelled",
    # A ticket with nobody to contact is not put to approvers: the system ends it at once,
    # its reason saying why (empty_audience_reason). Standing tickets are exempt: their
    # audience is whoever the coming events bring.
    ("planned", "close_empty"): "cancelled",
    # An approval past its deadline stays planned; the self-move puts the escalation on record.
    ("planned", "escalate"): "planned",
    ("approved", "start"): "executing",
    ("approved", "cancel"): "cancelled",
    ("executing", "cancel"): "cancelled",
    ("executing", "evaluate"): "evaluating",
    ("evaluating", "close"): "closed",
}
ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))
# Tickets waiting on people or on tasks: the ones a deadline applies to.
OPEN_STATES = ("planned", "executing")
CANCELLERS = ("admin", "designer")


@dataclass(frozen=True)
class Level:
    level: int
    role: str


@dataclass(frozen=True)
class Approval:
    level: int
    role: str
    by: str
    decision: str  # approved | rejected
    comment: str | None
    at: dt.datetime


@dataclass(frozen=True)
class Ticket:
    id: int | None
    playbook: str
    state: str
    planned_by: str
    planned_at: dt.datetime
    owner: str | None
    levels: tuple[Level, ...]
    approvals: tuple[Approval, ...] = ()
    cancel_reason: str | None = None
    owners: frozenset[str] = frozenset()  # the owner and, for a team, its members


@dataclass(frozen=True)
class AuditRecord:
    at: dt.datetime
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None

    def as_row(self) -> dict[str, Any]:
        return {"at": self.at, "actor": self.actor, "role": self.role, "action": self.action,
                "from_state": self.from_state, "to_state": self.to_state,
                "reason": self.reason}


def transition(ticket: Ticket, action: str, actor: str, role: str, at: dt.datetime,
               reason: str | None = None) -> tuple[Ticket, AuditRecord]:
    """The ticket after `action`, and the audit record of that change; Conflict if the table
    has no such move from the ticket's state."""
    target = TRANSITIONS.get((ticket.state, action))
    if target is None:
        raise Conflict(f"ticket {ticket.id} is {ticket.state}: cannot {action.replace('_', ' ')}")
    moved = replace(ticket, state=target)
    if target == "cancelled":
        moved = replace(moved, cancel_reason=reason)
    record = AuditRecord(at, actor, role, action, None if ticket.state == NEW else ticket.state,
                         target, reason)
    return moved, record


def required_levels(workflow: Workflow, facts: Mapping[str, Any]) -> tuple[Level, ...]:
    """The levels a ticket with these facts needs, from the workflow."""
    return tuple(Level(level.level, level.role) for level in levels_for(workflow, facts))


def next_level(ticket: Ticket) -> Level | None:
    """The level whose decision is due; None when the ticket waits for no approval."""
    if ticket.state != "planned":
        return None
    done = {a.level for a in ticket.approvals}
    return next((level for level in ticket.levels if level.level not in done), None)


def decide(ticket: Ticket, user: User, approve: bool, comment: str | None,
           at: dt.datetime,
           level: int | None = None) -> tuple[Ticket, Approval, AuditRecord | None]:
    """One level's decision. Who may decide is checked before the ticket's state, so a person
    without the right gets 403 whatever the state (and learns nothing about it).

    The same person repeating the decision they already made (a double click, a retried
    request) changes nothing and is no error: the ticket comes back as it is with their earlier
    approval and no audit record, so the caller writes nothing. `level`, when given, is the
    level the person saw (the console's button names it): a repeat must be for that level, and
    a level someone else decided meanwhile is a Conflict rather than a vote for the next one.
    Any other second decision by one person is refused: one person decides at most one level."""
    _check_approver(ticket, user)
    mine = next((a for a in ticket.approvals if a.by == user.name), None)
    if mine is not None:
        if mine.decision == ("approved" if approve else "rejected") and \
                level in (None, mine.level):
            return ticket, mine, None
        raise Forbidden(f"{user.name} already decided level {mine.level} of ticket "
                        f"{ticket.id} ({mine.decision}): one person decides at most one level")
    due = next_level(ticket)
    if level is not None and due is not None and level != due.level:
        raise Conflict(f"level {level} of ticket {ticket.id} is not the one due (level "
                       f"{due.level}): reload the ticket")
    return _decide_level(ticket, user, approve, comment, at, due)


def _decide_level(ticket: Ticket, user: User, approve: bool, comment: str | None,
                  at: dt.datetime, level: Level | None) -> tuple[Ticket, Approval, AuditRecord]:
    if level is None:
        verb = "approve" if approve else "reject"
        raise Conflict(f"ticket {ticket.id} is {ticket.state}: cannot {verb}")
    if not user.is_approver_for(level.role):
        raise Forbidden(f"level {level.level} of ticket {ticket.id} is approved by role "
                        f"{level.role!r}, which {user.name} does not hold")
    approval = Approval(level.level, level.role, user.name,
                        "approved" if approve else "rejected", comment, at)
    decided = replace(ticket, approvals=(*ticket.approvals, approval))
    if not approve:
        action = "reject"
    elif next_level(decided) is None:
        action = "approve"
    else:
        action = "approve_level"
    moved, record = transition(decided, action, user.name, level.role, at, comment)
    return moved, approval, record


def _check_approver(ticket: Ticket, user: User) -> None:
    roles = {level.role for level in ticket.levels}
    if not roles & user.roles:
        needed = ", ".join(sorted(roles))
        hint = " (admin is not an approver role)" if user.has("admin") else ""
        raise Forbidden(f"approving ticket {ticket.id} needs the role {needed}{hint}")
    if user.name == ticket.planned_by:
        raise Forbidden(f"{user.name} planned ticket {ticket.id} and cannot approve it")
    if ticket.owner is not None and user.name == ticket.owner:
        raise Forbidden(f"{user.name} owns playbook {ticket.playbook!r} and cannot approve "
                        f"its tickets")
    if user.name in ticket.owners:
        raise Forbidden(f"{user.name} is a member of {ticket.owner}, which owns playbook "
                        f"{ticket.playbook!r}, and cannot approve its tickets")


def cancel(ticket: Ticket, user: User, reason: str,
           at: dt.datetime) -> tuple[Ticket, AuditRecord]:
    """Admins, designers, the planner and the ticket's approver roles may stop a ticket."""
    roles = {level.role for level in ticket.levels}
    allowed = [r for r in sorted(user.roles) if r in CANCELLERS or r in roles]
    if not allowed and user.name != ticket.planned_by:
        raise Forbidden(f"cancelling ticket {ticket.id} needs the role "
                        f"{', '.join((*CANCELLERS, *sorted(roles)))}, or to have planned it")
    role = allowed[0] if allowed else "planner"
    return transition(ticket, "cancel", user.name, role, at, reason)


def empty_audience_reason(matched: int, suppressed: Mapping[str, int]) -> str:
    """Why a ticket was closed without asking anyone: who matched, and what removed them."""
    removed = ", ".join(f"{n} {reason}" for reason, n in sorted(suppressed.items()) if n)
    said = f"empty audience: nobody to contact ({matched} matched"
    return said + (f"; suppressed: {removed})" if removed else ")")


def approval_deadline(ticket: Ticket, sla_approve: dt.timedelta) -> dt.datetime:
    """`sla.approve` is the time a ticket may wait for each approval: it restarts with each."""
    last = max((a.at for a in ticket.approvals), default=ticket.planned_at)
    return last + sla_approve


def execution_deadline(started_at: dt.datetime, due: Sequence[dt.datetime],
                       sla_execute: dt.timedelta) -> dt.datetime:
    """When the last task, unfinished `sla.execute` after it was due, makes the ticket late."""
    return max(due, default=started_at) + sla_execute


def evaluation_time(started_at: dt.datetime, goal_within: dt.timedelta | None,
                    due: Sequence[dt.datetime]) -> dt.datetime:
    """Intention-to-treat: the goal window runs from the start for both groups. Without a
    goal the ticket is judged by its funnel once its last task was due."""
    if goal_within is not None:
        return started_at + goal_within
    return max(due, default=started_at)
