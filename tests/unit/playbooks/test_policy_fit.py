"""Warnings for steps whose sends and retries the contact policy's caps never let through."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.config_loader import parse_config
from engine.playbooks.library import load_library
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.policy_fit import attempts_in_window, policy_warnings

ROOT = Path(__file__).resolve().parents[3]
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
DRAFT = """\
playbook: calls
title: Calls
version: 1
trigger: {schedule: "0 9 * * *"}
audience: {tier: {in: [gold]}}
workflow: standard
steps:
  - id: call
    channel: outbound_call
    template: c
    retry: {on: [no_answer], times: 3, after: 2d}
  - {id: sms, channel: sms, template: t}
"""


def _config(caps: str) -> str:
    base = (ROOT / "config.yaml").read_text(encoding="utf-8").split("\ncontact_policy:")[0]
    return base + f"\ncontact_policy:\n  caps: {caps}\n"


@pytest.mark.parametrize(("attempts", "after", "per", "most"), [
    (3, DAY, 7 * DAY, 3), (4, 2 * DAY, 7 * DAY, 4), (4, 3 * DAY, 7 * DAY, 3),
    (3, 7 * DAY, 7 * DAY, 1),  # a contact exactly `per` ago no longer counts
    (3, 2 * HOUR, DAY, 3), (1, DAY, DAY, 1), (5, 8 * DAY, 7 * DAY, 1)])
def test_attempts_in_one_window(attempts: int, after: dt.timedelta, per: dt.timedelta,
                                most: int) -> None:
    assert attempts_in_window(attempts, after, per) == most


def test_a_step_over_a_cap_is_warned_at_its_retry_and_a_zero_cap_at_the_step() -> None:
    config = parse_config(_config("[{channel: outbound_call, max: 3, per: 7d}, "
                                  "{channel: sms, max: 0, per: 1d}]"), "config.yaml")
    library = load_library(config)
    playbook = parse_playbook(DRAFT, "calls.yaml", config, library.workflows)
    found = [(w.line, w.column, w.message) for w in policy_warnings(playbook, config)]
    assert found == [
        (11, 5, "warning: step 'call' makes up to 4 outbound_call contacts within 1w (1 send + "
                "3 retries 2d apart), but the cap 'outbound_call: at most 3 per 1w' of "
                "config.yaml allows 3: the last 1 can never be sent (suppressed by "
                "frequency_cap); retry fewer times, or at least 1w apart, or change the cap"),
        (12, 5, "warning: step 'sms' can never send: the cap 'sms: at most 0 per 1d' of "
                "config.yaml allows no sms contact")]
    roomy = parse_config(_config("[{max: 4, per: 7d}]"), "config.yaml")
    assert policy_warnings(playbook, roomy) == []


def test_the_shipped_library_fits_the_shipped_policy() -> None:
    config = parse_config((ROOT / "config.yaml").read_text(encoding="utf-8"), "config.yaml")
    library = load_library(config)
    assert [w for pb in library.playbooks.values() for w in policy_warnings(pb, config)] == []
