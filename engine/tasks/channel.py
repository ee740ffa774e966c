"""A channel of config.yaml: any name an operator chooses (sms, wechat, ivr, app_inbox, ...),
bound to one adapter type, with what the rest of Tend needs to know of it.

The names are an open registry: what used to be known of the six shipped names is said in
the file now (`kind`, `label`; quiet hours, capacity and caps in `contact_policy`), with
defaults that keep the shipped names as they were. docs/CHANNELS.md has the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import fields, validate

from engine.formats.schemas import NAME, Entries, Number, Strict, Text

# The channels config.yaml ships; any other name may be declared, bound to an adapter.
SHIPPED_CHANNELS = ("sms", "outbound_call", "email", "push", "store", "account_manager")
ADAPTERS = ("log", "webhook", "pull", "smtp")
# What a channel's results say (`kind`): a call is answered or not (no_answer, connected,
# accepted), a message is delivered or fails. Unsaid, these two shipped names are calls.
KINDS = ("call", "message")
CALL_CHANNELS = frozenset({"outbound_call", "account_manager"})
LABEL_LANGUAGES = ("en", "zh")  # the console's languages (adapters.http.console.i18n)
# `all` stands for every channel in a customer's `opt_out`: no channel may be called so.
CHANNEL_NAME = validate.And(NAME, validate.NoneOf(["all"], error="`all` means every channel "
                                                            "in opt_out: choose another name"))


class ChannelSchema(Strict):
    adapter = fields.String(required=True, validate=validate.OneOf(ADAPTERS))
    options = fields.Dict(keys=fields.String(), load_default=dict)
    cost = Number(validate=validate.Range(min=0))  # per task sent; evaluation's cost figures
    kind = fields.String(validate=validate.OneOf(KINDS))
    label = Entries(keys=fields.String(validate=validate.OneOf(LABEL_LANGUAGES)),
                    values=Text(validate=validate.Length(min=1)), load_default=dict)


@dataclass(frozen=True)
class Channel:
    """A channel of config.yaml: any name, bound to one adapter (docs/CHANNELS.md)."""

    name: str
    adapter: str
    options: Mapping[str, Any]
    cost: float | None = None
    kind: str = "message"  # KINDS: what its results say (the simulation answers so)
    label: Mapping[str, str] = field(default_factory=dict)  # language → name people read

    @property
    def calls(self) -> bool:
        return self.kind == "call"


def build_channel(name: str, data: Mapping[str, Any]) -> Channel:
    """A channel's `kind` defaults by name: the shipped calls are calls, the rest messages."""
    kind = data.get("kind", "call" if name in CALL_CHANNELS else "message")
    return Channel(name, data["adapter"], data["options"], data.get("cost"), kind,
                   dict(data["label"]))
