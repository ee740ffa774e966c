"""Each channel's first sends counted per quarter hour (UTC), kept in the transaction that
stamps them: what a channel's daily `capacity` reads (adapters/tasks/contact_policy.py
sent_today), on every claim and every customer view. Counting the tasks sent since local
midnight instead grew with them (about 6,000 index entries a view at 1,000,000 customers,
the view's dearest statement: docs/ARCHITECTURE.md "Customer view speed").

Only the sends of channels with a capacity are counted (their claimers take turns anyway),
so a capacity given to a channel later counts its sends from then on; migration 0022 filled
the counts of every channel from the tasks stamped before it.

A quarter hour because a local day's bounds fall on one in every time zone in use (their
offsets from UTC are whole quarter hours), so a day is a range of whole slots whatever the
configured zone, and the zone may change without rewriting the counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.reads import Read
from adapters.db.schema import channel_sends

SLOT_SECONDS = 900

_COUNT = sa.text(
    "INSERT INTO channel_sends (channel, slot, sent) VALUES (:channel, :slot, :n) "
    "ON CONFLICT (channel, slot) DO UPDATE SET sent = channel_sends.sent + :n")
_BETWEEN = (sa.select(channel_sends.c.channel, sa.func.sum(channel_sends.c.sent))
            .where(channel_sends.c.channel.in_(sa.bindparam("channels", expanding=True)),
                   channel_sends.c.slot >= sa.bindparam("first_slot"),
                   channel_sends.c.slot < sa.bindparam("end_slot"))
            .group_by(channel_sends.c.channel))


def slot(at: dt.datetime) -> int:
    """The quarter hour (UTC) holding `at`, numbered from the epoch."""
    return int(at.timestamp()) // SLOT_SECONDS


def count(conn: Connection, channels: Iterable[str], now: dt.datetime) -> None:
    """One first send for each item of `channels` (a channel once per task), at `now`: call
    in the transaction that stamps their `sent_at`. Channels in name order, so two claimers
    never wait on each other's rows crosswise."""
    for channel, n in sorted(Counter(channels).items()):
        conn.execute(_COUNT, {"channel": channel, "slot": slot(now), "n": n})


def between_read(channels: Sequence[str], start: dt.datetime, end: dt.datetime) -> Read:
    """First sends of `channels` from `start` to before `end` (both on quarter hours): a
    read, to run alone or batched with others (adapters.db.reads); `counts_of` its rows."""
    return Read(_BETWEEN, {"channels": list(channels), "first_slot": slot(start),
                           "end_slot": slot(end)})


def counts_of(rows: Iterable[Any]) -> dict[str, int]:
    """Sends by channel from the rows of a `between_read`: the channels that sent."""
    return {channel: int(sent) for channel, sent in rows}
