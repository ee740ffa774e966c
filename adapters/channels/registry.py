"""The push channels of a config, by name: each bound to its adapter (log, webhook, smtp)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from adapters.channels.base import CANCEL, TASK, Push, Pusher, Send, number
from adapters.channels.log import log_push
from adapters.channels.smtp import smtp_sender
from adapters.channels.webhook import Client, webhook_push
from engine.channel import Channel
from engine.clock import Clock, system_clock


def pushers(channels: Mapping[str, Channel],
            clock: Clock = system_clock) -> dict[str, Pusher]:
    """The push channels of the config, by name; a bad option is a ValidationError naming
    the channel, raised when the worker starts rather than at the first task."""
    found = {}
    for name, channel in channels.items():
        options = channel.options
        attempts = int(number(name, options, "attempts", 5, int))
        backoff = number(name, options, "backoff", 30.0, float)
        if channel.adapter == "webhook":
            client = Client(name, options)
            push = webhook_push(name, options, client, clock)
            found[name] = Pusher(name, _as(push, TASK), attempts, backoff, _as(push, CANCEL),
                                 client.close)
        elif channel.adapter == "log":
            push = log_push(Path(str(options.get("path", "var/dispatch.log"))))
            found[name] = Pusher(name, _as(push, TASK), attempts, backoff, _as(push, CANCEL))
        elif channel.adapter == "smtp":
            found[name] = Pusher(name, smtp_sender(name, options), attempts, backoff)
    return found


def _as(push: Push, kind: str) -> Send:
    return lambda task: push(task, kind)
