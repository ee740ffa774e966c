"""Push channel adapters: how the worker hands one task to the outside world.

A channel's adapter is one function, task JSON in, `Outcome` out; it never raises for a
failure of the far side, so the worker decides retries in one place (adapters.worker):

- `log` appends one JSON line per task to a file (`path`, default var/dispatch.log), with
  phones and emails masked as in request logs: a log is not a contact list.
- `webhook` POSTs the task (DESIGN §7): `Idempotency-Key: <key>` and `Tend-Signature` made
  by the notifier's signer. A 2xx is delivery; a 4xx other than 408/429 is the receiver
  refusing this task for good; anything else (5xx, 408, 429, timeouts, refused connections)
  may pass on a later attempt.

`pull` channels have no push adapter (adapters fetch them, adapters.task_pull); nor, yet,
has `smtp`: the worker leaves both alone.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.http.observe import mask_personal_data
from adapters.notify import signature
from engine.config import Channel
from engine.errors import ValidationError

DELIVERED = "delivered"
RETRY = "retry"  # the far side may take it later
REFUSED = "refused"  # the far side will never take it: dead-letter now
PUSH_ADAPTERS = ("log", "webhook")
RETRIED_4XX = (408, 429)  # timeouts and rate limits: the request was fine, try again


@dataclass(frozen=True)
class Outcome:
    kind: str  # DELIVERED | RETRY | REFUSED
    detail: str


Send = Callable[[Mapping[str, Any]], Outcome]


@dataclass(frozen=True)
class Pusher:
    """A push channel as the worker drives it: the adapter, and how hard to try."""

    name: str
    send: Send
    attempts: int  # deliveries tried before the task is dead
    backoff: float  # seconds before the first retry; doubled per attempt, with jitter


def pushers(channels: Mapping[str, Channel],
            clock: Callable[[], float] = time.time) -> dict[str, Pusher]:
    """The push channels of the config, by name; a bad option is a ValidationError naming
    the channel, raised when the worker starts rather than at the first task."""
    found = {}
    for name, channel in channels.items():
        if channel.adapter not in PUSH_ADAPTERS:
            continue
        options = channel.options
        attempts = _number(name, options, "attempts", 5, int)
        backoff = _number(name, options, "backoff", 30.0, float)
        send = (_webhook(name, options, clock) if channel.adapter == "webhook"
                else _log(Path(str(options.get("path", "var/dispatch.log")))))
        found[name] = Pusher(name, send, int(attempts), float(backoff))
    return found


def _number(channel: str, options: Mapping[str, Any], key: str, default: float,
            kind: type) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (kind is int and not isinstance(value, int)) or value <= 0:
        raise ValidationError(f"channels.{channel}.options.{key}: expected a positive "
                              f"{'integer' if kind is int else 'number'}, got {value!r}")
    return float(value)


def _log(path: Path) -> Send:
    def send(task: Mapping[str, Any]) -> Outcome:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(mask_personal_data(None, "", dict(task)), sort_keys=True,
                          default=str)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return Outcome(DELIVERED, f"logged to {path}")

    return send


def _webhook(channel: str, options: Mapping[str, Any], clock: Callable[[], float]) -> Send:
    """Options `url`, `secret_env` (the NAME of the variable holding the secret: config
    files get shared, secrets must not) and `timeout` (seconds, default 10)."""
    url, secret_env = options.get("url"), options.get("secret_env")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValidationError(f"channels.{channel}.options.url: expected an http(s) URL")
    secret = os.environ.get(str(secret_env or ""))
    if not secret:
        raise ValidationError(f"channels.{channel}.options.secret_env: the environment "
                              f"variable {secret_env!r} holding the webhook secret is not set")
    timeout = _number(channel, options, "timeout", 10.0, float)

    def send(task: Mapping[str, Any]) -> Outcome:
        body = json.dumps(task, sort_keys=True, default=str).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": task["idempotency_key"],
            "Tend-Signature": signature(secret, body, int(clock()))})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return Outcome(DELIVERED, f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:  # a status of 400 and up
            refused = 400 <= exc.code < 500 and exc.code not in RETRIED_4XX
            return Outcome(REFUSED if refused else RETRY, f"HTTP {exc.code} from {url}")
        except OSError as exc:  # URLError, timeouts, refused or reset connections
            return Outcome(RETRY, f"{type(exc).__name__} from {url}: {exc}")

    return send
