"""Channels are an open registry: any name in config.yaml, bound to an adapter type, with what
Tend knows of a channel (kind, label, quiet hours, caps) said in the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.channels.registry import BUILDERS, PULLED, pushers
from engine.config import Config
from engine.config_loader import parse_config
from engine.errors import ValidationError
from engine.measurement.simulation import Behaviour, World
from engine.tasks.channel import ADAPTERS
from engine.tasks.policy import QuietHours

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")
ANCHOR = "  push: {adapter: log}\n"
LINE = SHIPPED[:SHIPPED.index(ANCHOR)].count("\n") + 2  # the line of the first added channel


def _with(channels: str) -> Config:
    """The shipped config with more channels (YAML lines under `channels:`)."""
    return parse_config(SHIPPED.replace(ANCHOR, ANCHOR + channels), "config.yaml")


def _problems(channels: str) -> str:
    with pytest.raises(ValidationError) as caught:
        _with(channels)
    return "\n".join(str(p) for p in caught.value.problems)


def test_an_operator_names_a_channel_of_their_own_bound_to_any_adapter() -> None:
    config = _with("  wechat: {adapter: webhook, options: {url: 'https://gw.example/t'}}\n"
                   "  wecom: {adapter: pull, label: {en: WeCom, zh: 企业微信}}\n"
                   "  app_inbox: {adapter: log, cost: 0.001}\n"
                   "  ivr: {adapter: pull, kind: call}\n")
    wechat, wecom = config.channels["wechat"], config.channels["wecom"]
    assert (wechat.adapter, wechat.options["url"]) == ("webhook", "https://gw.example/t")
    assert wecom.adapter == "pull" and wecom.label == {"en": "WeCom", "zh": "企业微信"}
    assert config.channels["app_inbox"].cost == 0.001
    assert config.channels["ivr"].calls and not wechat.calls and not wecom.calls
    assert {"sms", "outbound_call", "wechat", "wecom", "app_inbox", "ivr"} <= set(config.channels)


def test_the_shipped_channels_keep_what_was_known_of_them() -> None:
    config = parse_config(SHIPPED, "config.yaml")
    calls = {name for name, channel in config.channels.items() if channel.calls}
    assert calls == {"outbound_call", "account_manager"}
    assert all(channel.label == {} for channel in config.channels.values())
    sms = config.policy.rules("sms")
    assert sms.quiet_hours == QuietHours(dt.time(21), dt.time(8)) and sms.capacity == 50000


def test_a_shipped_name_may_say_otherwise() -> None:
    config = _with("  robo: {adapter: log}\n").channels
    assert not config["robo"].calls
    text = SHIPPED.replace("outbound_call: {adapter: log, cost: 2.5}",
                           "outbound_call: {adapter: log, cost: 2.5, kind: message}")
    assert not parse_config(text, "config.yaml").channels["outbound_call"].calls


def test_a_new_channel_takes_quiet_hours_capacity_and_caps() -> None:
    text = SHIPPED.replace(ANCHOR, ANCHOR + "  wechat: {adapter: pull}\n").replace(
        "    store: {capacity: 500}\n",
        "    store: {capacity: 500}\n    wechat: {quiet_hours: '22:00-08:00', capacity: 7}\n"
    ).replace("    - {channel: sms, max: 1, per: 1d}\n",
              "    - {channel: sms, max: 1, per: 1d}\n    - {channel: wechat, max: 2, per: 1d}\n")
    policy = parse_config(text, "config.yaml").policy
    assert policy.rules("wechat").quiet_hours == QuietHours(dt.time(22), dt.time(8))
    assert policy.rules("wechat").capacity == 7
    assert [(c.max, c.per) for c in policy.caps if c.channel == "wechat"] == [
        (2, dt.timedelta(days=1))]


@pytest.mark.parametrize(("channels", "message"), [
    ("  wechat: {adapter: fax}\n",
     f"config.yaml:{LINE}:12: channels.wechat.adapter: must be one of: log, webhook, pull, smtp"),
    ("  wechat: {options: {}}\n",
     f"config.yaml:{LINE}:3: channels.wechat.adapter: missing data for required field"),
    ("  WeChat: {adapter: pull}\n",
     f"config.yaml:{LINE}:3: channels.WeChat: expected a name of [a-z][a-z0-9_]*"),
    ("  all: {adapter: pull}\n", "channels.all: `all` means every channel in opt_out"),
    ("  wechat: {adapter: pull, kind: chat}\n",
     "channels.wechat.kind: must be one of: call, message"),
    ("  wechat: {adapter: pull, label: {fr: WeChat}}\n",
     "channels.wechat.label.fr: must be one of: en, zh"),
    ("  wechat: {adapter: pull, label: {zh: ''}}\n", "channels.wechat.label.zh: shorter than"),
])
def test_a_bad_channel_is_an_error_naming_its_field(channels: str, message: str) -> None:
    assert message in _problems(channels)


def test_a_policy_naming_an_undeclared_channel_is_still_refused() -> None:
    text = SHIPPED.replace("    store: {capacity: 500}\n",
                           "    store: {capacity: 500}\n    wechat: {capacity: 7}\n")
    with pytest.raises(ValidationError) as caught:
        parse_config(text, "config.yaml")
    assert "unknown channel 'wechat'" in str(caught.value)


def test_the_simulation_answers_as_each_channel_is_configured() -> None:
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    sure = Behaviour(effects={"p": 0.0}, reach={"ivr": 1.0, "outbound_call": 1.0})
    world = World(sure, 1, calls=frozenset({"ivr"}))
    assert world.contact(1, "a", "p", "ivr", at).status == "connected"
    assert world.contact(1, "b", "p", "outbound_call", at).status == "delivered"
    assert World(sure, 1).contact(1, "c", "p", "outbound_call", at).status == "connected"


def test_every_adapter_type_config_accepts_is_pushed_or_pulled() -> None:
    assert sorted(ADAPTERS) == sorted([*BUILDERS, PULLED])
    config = _with("  wechat: {adapter: pull}\n  app_inbox: {adapter: log}\n")
    pushed = pushers(config.channels)
    assert "app_inbox" in pushed and "wechat" not in pushed
