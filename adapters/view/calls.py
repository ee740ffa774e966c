"""One call from the manager's desk, several results (一次外呼多个结果): in one conversation
the manager answers each of the customer's tasks (connected, no answer, accepted, declined)
and says how each offer went (presented, interested, declined, handled), each attributed to
its own ticket.

Every part is checked before the first write (bad input names its field: `task:<id>`,
`reason:<id>` (a result's reason code, required where config.yaml `result_reasons` says),
`offer:<ticket>:<offer>`), and the whole call is one transaction, so a task that refuses
its result (engine.tasks.task: suppressed, cancelled before sending, dead) leaves nothing written
either. Results go through the task service (an attempt kept per call, then the task's
result, adapters.tasks.attempts), outcomes through the contacts service
(adapters.view.contacts.record), under ids derived from the call's id, which the desk makes
when it draws the form: the same form sent twice is one call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Row

from adapters.tasks import attempts
from adapters.tasks import service as task_service
from adapters.view import contacts
from adapters.view.desk import RESULTS
from engine.config import Config
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.playbooks.library import Library
from engine.tasks import contact as ct
from engine.tasks.reasons import Reason

OUTCOMES = (ct.PRESENTED, ct.INTERESTED, ct.DECLINED, ct.HANDLED)  # on an offer, in a call


@dataclass(frozen=True)
class Call:
    """What the desk's form for one customer sends."""

    id: str  # made when the form was drawn
    channel: str  # the channel the call is on (the tasks')
    note: str | None = None
    results: dict[int, str] = field(default_factory=dict)  # task id → result
    outcomes: dict[tuple[int, str], str] = field(default_factory=dict)  # (ticket, offer) → outcome
    reasons: dict[int, str] = field(default_factory=dict)  # task id → result reason code


class TaskRefused(Conflict):
    """A task takes no result (engine.tasks.task): someone else's change since the desk was
    drawn."""

    def __init__(self, task_id: int, state: str, why: Conflict) -> None:
        super().__init__(f"task:{task_id}: {why}")
        self.task_id, self.state = task_id, state


@dataclass(frozen=True)
class Recorded:
    results: int  # task results recorded now (0: the call was recorded before)
    outcomes: int  # offer outcomes recorded now


def record_call(conn: Connection, config: Config, library: Library, customer_id: str,
                call: Call, by: str, routes: frozenset[str], now: dt.datetime) -> Recorded:
    """Record `call` to `customer_id` by the user `by`, routed `routes`. Invalid naming the
    field, Forbidden for a task not routed to the user, NotFound for an unknown task or
    customer, Conflict for a task that takes no result: all before anything is kept. Call
    first in a write transaction."""
    if not call.results and not call.outcomes:
        raise Invalid("results: nothing to record", {
            "results": ["choose a result for a task or an outcome for an offer"]})
    rows = [_task(conn, customer_id, task_id, status, routes)
            for task_id, status in sorted(call.results.items())]
    reasons = {row.id: _reason(config, row.id, call.results[row.id], call.reasons.get(row.id))
               for row in rows}
    for task_id in sorted(set(call.reasons) - set(call.results)):
        name = f"reason:{task_id}"
        raise Invalid(f"{name}: a reason needs a result", {name: ["choose the call's result"]})
    for (ticket_id, offer), outcome in sorted(call.outcomes.items()):
        _check_outcome(library, ticket_id, offer, outcome)
    done = Recorded(0, 0)
    for row in rows:
        try:
            new = attempts.attempt(conn, row, call.results[row.id],
                                   _part(call.id, f"t{row.id}"), by, call.note, now,
                                   reasons[row.id])
        except Conflict as refused:
            raise TaskRefused(row.id, row.state, refused) from refused
        done = Recorded(done.results + new, done.outcomes)
    for (ticket_id, offer), outcome in sorted(call.outcomes.items()):
        body = {"id": _part(call.id, f"o{ticket_id}:{offer}"), "channel": call.channel,
                "offer": offer, "ticket_id": ticket_id, "outcome": outcome}
        if call.note:
            body["note"] = call.note
        try:
            new = contacts.record(conn, config, customer_id, body, by, now)[1]
        except Invalid as refused:  # the ticket: the whole call is rolled back
            name = f"offer:{ticket_id}:{offer}"
            raise Invalid(f"{name}: {refused}", {name: [str(refused)]}) from refused
        done = Recorded(done.results, done.outcomes + new)
    return done


def _task(conn: Connection, customer_id: str, task_id: int, status: str,
          routes: frozenset[str]) -> Row[Any]:
    name = f"task:{task_id}"
    if status not in RESULTS:
        raise Invalid(f"{name}: no result {status!r}", {
            name: [f"expected one of {', '.join(RESULTS)}"]})
    try:
        row = task_service.task(conn, task_id)
    except NotFound:
        raise Invalid(f"{name}: no such task", {name: ["no such task"]}) from None
    if row.customer_id != customer_id:
        raise Invalid(f"{name}: another customer's task", {
            name: [f"task {task_id} is not customer {customer_id!r}'s"]})
    if row.route not in routes:
        raise Forbidden(f"task {task_id} is routed to {row.route}, not to you")
    return row


def _reason(config: Config, task_id: int, status: str, code: str | None) -> Reason | None:
    """The result's reason, as config.yaml `result_reasons` wants it from a person: a declared
    code, and one where `required` names the result. Invalid naming `reason:<task>`."""
    try:
        return config.reasons.check(status, code, by_person=True)
    except Invalid as wrong:
        name = f"reason:{task_id}"
        raise Invalid(f"{name}: {wrong.message.partition(': ')[2]}",
                      {name: wrong.errors.get("reason", [])}) from None


def _check_outcome(library: Library, ticket_id: int, offer: str, outcome: str) -> None:
    name = f"offer:{ticket_id}:{offer}"
    if offer not in library.offers:
        raise Invalid(f"{name}: no offer {offer!r}", {name: [f"no offer {offer!r}"]})
    if outcome not in OUTCOMES:
        raise Invalid(f"{name}: no outcome {outcome!r}", {
            name: [f"expected one of {', '.join(OUTCOMES)}"]})


def _part(call_id: str, part: str) -> str:
    """The id of one part of a call: the same for the same form, 32 hex digits (contact ids
    are at most 64 characters)."""
    return hashlib.sha256(f"{call_id}/{part}".encode()).hexdigest()[:32]
