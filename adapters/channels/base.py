"""Push channel adapters: how the worker hands one task to the outside world.

A channel's adapter is a function, task JSON in, `Outcome` out; it never raises for a
failure of the far side, so the worker decides retries in one place (adapters.tasks.pushes):

- `log` appends one JSON line per task to a file (`path`, default var/dispatch.log), with
  phones and emails masked as in request logs: a log is not a contact list.
- `webhook` POSTs the task (DESIGN §7): `Idempotency-Key: <key>` and `Tend-Signature` made
  by the notifier's signer, over a kept-alive connection (one per thread). A 2xx is
  delivery; a 4xx other than 408/429 is the receiver refusing this task for good; anything
  else (5xx, 408, 429, timeouts, refused connections) may pass on a later attempt.
- `smtp` mails the customer (adapters.channels.smtp).

`log` and `webhook` also take cancels (DESIGN §6: a cancelled task the adapter holds is
cancelled there): the same call with `{"kind": "cancel", ...}` and the task's key. Mail
cannot be called back, so `smtp` has none. `pull` channels have no push adapter: adapters
fetch them (adapters.tasks.service).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import ValidationError
from engine.privacy import mask_personal_data
from engine.tasks import task as tk

DELIVERED = tk.DELIVERED  # the outcome is the state it leaves the task in
RETRY = "retry"  # the far side may take it later
REFUSED = "refused"  # the far side will never take it: dead-letter now
RETRIED_4XX = (408, 429)  # timeouts and rate limits: the request was fine, try again
TASK, CANCEL = "task", "cancel"  # the `kind` of a pushed message


@dataclass(frozen=True)
class Outcome:
    kind: str  # DELIVERED | RETRY | REFUSED
    detail: str


Send = Callable[[Mapping[str, Any]], Outcome]
Push = Callable[[Mapping[str, Any], str], Outcome]  # a task or a cancel (the `kind`)


@dataclass(frozen=True)
class Pusher:
    """A push channel as the worker drives it: the adapter, and how hard to try."""

    name: str
    send: Send
    attempts: int  # deliveries tried before the task is dead
    backoff: float  # seconds before the first retry; doubled per attempt, with jitter
    cancel: Send | None = None  # tells the far side to drop a task it holds
    close: Callable[[], None] = lambda: None  # lets go of kept connections


def signature(secret: str, body: bytes, at: int) -> str:
    """DESIGN §7's webhook signature, for tasks and for approver notices alike:
    HMAC-SHA256 over "<t>.<body>"."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def number(channel: str, options: Mapping[str, Any], key: str, default: float,
           kind: type) -> float:
    """A positive option (int when `kind` is int), or a ValidationError naming it."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (kind is int and not isinstance(value, int)) or value <= 0:
        raise ValidationError(f"expected a positive "
                              f"{'integer' if kind is int else 'number'}, got {value!r}",
                              field=f"channels.{channel}.options.{key}")
    return float(value)


def masked(text: str) -> str:
    """`text` with phones and emails masked, for errors that end up in logs and `detail`."""
    return str(mask_personal_data(None, "", {"text": text})["text"])


def message(task: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """What a push carries: the task itself, or a cancel naming it by id and key."""
    if kind == TASK:
        return {"kind": TASK, **task}
    return {"kind": CANCEL, **{key: task[key] for key in (
        "id", "ticket_id", "customer_id", "step", "channel", "route", "idempotency_key")}}


