"""The push channels of a config, by name: each bound to its adapter type's builder.

Channel names are the operator's (engine/tasks/channel.py); adapter types are this table's. `pull`
has no builder: adapters fetch those channels' tasks (adapters.tasks.service). A new push
adapter is one builder here and its type in engine.tasks.channel.ADAPTERS (a test holds the two
together)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from adapters.channels.base import CANCEL, TASK, Push, Pusher, Send, number
from adapters.channels.log import log_push
from adapters.channels.smtp import smtp_sender
from adapters.channels.webhook import Client, webhook_push
from engine.clock import Clock, system_clock
from engine.tasks.channel import Channel

PULLED = "pull"  # the adapter type whose tasks are fetched, not pushed


def pushers(channels: Mapping[str, Channel],
            clock: Clock = system_clock) -> dict[str, Pusher]:
    """The push channels of the config, by name; a bad option is a ValidationError naming
    the channel, raised when the worker starts rather than at the first task."""
    found = {}
    for name, channel in channels.items():
        build = BUILDERS.get(channel.adapter)
        if build is not None:
            attempts = int(number(name, channel.options, "attempts", 5, int))
            backoff = number(name, channel.options, "backoff", 30.0, float)
            found[name] = build(channel, attempts, backoff, clock)
    return found


def _webhook(channel: Channel, attempts: int, backoff: float, clock: Clock) -> Pusher:
    client = Client(channel.name, channel.options)
    push = webhook_push(channel.name, channel.options, client, clock)
    return Pusher(channel.name, _as(push, TASK), attempts, backoff, _as(push, CANCEL),
                  client.close)


def _log(channel: Channel, attempts: int, backoff: float, clock: Clock) -> Pusher:
    push = log_push(Path(str(channel.options.get("path", "var/dispatch.log"))))
    return Pusher(channel.name, _as(push, TASK), attempts, backoff, _as(push, CANCEL))


def _smtp(channel: Channel, attempts: int, backoff: float, clock: Clock) -> Pusher:
    return Pusher(channel.name, smtp_sender(channel.name, channel.options), attempts, backoff)


# adapter type → how a channel bound to it is pushed
BUILDERS: Mapping[str, Callable[[Channel, int, float, Clock], Pusher]] = {
    "log": _log, "webhook": _webhook, "smtp": _smtp}


def _as(push: Push, kind: str) -> Send:
    return lambda task: push(task, kind)
