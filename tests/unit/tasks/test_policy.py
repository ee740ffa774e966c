"""The contact policy's decisions at their boundaries, and its config section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config_loader import parse_config
from engine.errors import ValidationError
from engine.tasks import policy as pol
from engine.tasks.contact import Declines

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[3]


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant given as Shanghai local time on 2026-11-<day>."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


QUIET = pol.QuietHours(dt.time(21), dt.time(9))
POLICY = pol.Policy(
    SHANGHAI,
    caps=(pol.Cap(3, dt.timedelta(days=7)), pol.Cap(1, dt.timedelta(days=1), "sms")),
    channels={"sms": pol.ChannelRules(QUIET, 2), "email": pol.ChannelRules(None, None)},
    arbitration=dt.timedelta(days=1))


def intent(at: dt.datetime, channel: str = "sms", playbook: str = "winback",
           priority: int = 40, opt_out: tuple[str, ...] = ()) -> pol.Intent:
    return pol.Intent(at, channel, playbook, priority, opt_out)


def contact(at: dt.datetime, channel: str = "email", playbook: str = "winback",
            priority: int = 40, sent: bool = True, task_id: int | None = None) -> pol.Contact:
    return pol.Contact(at, channel, playbook, priority, task_id, sent)


# --- quiet hours: a task due in them waits until they end ---

def test_one_minute_before_quiet_hours_end_waits_until_they_end() -> None:
    held = pol.at_send(POLICY, intent(local(20, 8, 59)), [], 0)
    assert (held.verdict, held.reason, held.until) == (pol.HOLD, pol.QUIET_HOURS, local(20, 9))


def test_when_quiet_hours_end_and_one_minute_after_the_task_goes() -> None:
    assert pol.at_send(POLICY, intent(local(20, 9)), [], 0) == pol.SENT
    assert pol.at_send(POLICY, intent(local(20, 9, 1)), [], 0) == pol.SENT


def test_quiet_hours_start_at_their_first_minute_and_wrap_midnight() -> None:
    assert pol.at_send(POLICY, intent(local(20, 20, 59)), [], 0) == pol.SENT
    for start in (local(20, 21), local(20, 23, 59), local(21, 0, 30)):
        held = pol.at_send(POLICY, intent(start), [], 0)
        assert (held.verdict, held.until) == (pol.HOLD, local(21, 9))


def test_quiet_hours_within_one_day() -> None:
    lunch = pol.QuietHours(dt.time(12), dt.time(14))
    assert lunch.contains(dt.time(12)) and lunch.contains(dt.time(13, 59))
    assert not lunch.contains(dt.time(14)) and not lunch.contains(dt.time(11, 59))
    noon = dt.datetime(2026, 11, 20, 13, tzinfo=SHANGHAI)
    assert lunch.end_after(noon) == dt.datetime(2026, 11, 20, 14, tzinfo=SHANGHAI)


def test_a_channel_without_quiet_hours_sends_at_night() -> None:
    assert pol.at_send(POLICY, intent(local(20, 3), channel="email"), [], 0) == pol.SENT


# --- capacity per local day: N go, the N+1th waits for the next day ---

def test_capacity_n_sends_and_n_plus_one_waits_for_the_next_days_first_hour() -> None:
    assert pol.at_send(POLICY, intent(local(20, 10)), [], 1) == pol.SENT
    held = pol.at_send(POLICY, intent(local(20, 10)), [], 2)
    # the next local day begins at midnight, inside sms quiet hours: it waits until 09:00
    assert (held.verdict, held.reason, held.until) == (pol.HOLD, pol.CAPACITY, local(21, 9))


def test_capacity_spills_to_midnight_on_a_channel_without_quiet_hours() -> None:
    rules = pol.Policy(SHANGHAI, channels={"store": pol.ChannelRules(None, 5)})
    held = pol.at_send(rules, intent(local(20, 23, 59), channel="store"), [], 5)
    assert held.until == local(21, 0)


# --- frequency caps over rolling windows (T − per, T] ---

def test_exactly_at_the_cap_the_next_contact_is_suppressed() -> None:
    two = [contact(local(18, 10)), contact(local(19, 10))]
    assert pol.judge(POLICY, intent(local(20, 10), channel="email"), two) == pol.SENT
    three = [*two, contact(local(19, 11))]
    denied = pol.judge(POLICY, intent(local(20, 10), channel="email"), three)
    assert (denied.verdict, denied.reason) == (pol.SUPPRESS, pol.FREQUENCY_CAP)
    assert denied.note == "all channels: at most 3 per 1w"


def test_a_contact_exactly_one_window_ago_no_longer_counts() -> None:
    yesterday = [contact(local(19, 10), channel="sms")]
    assert pol.judge(POLICY, intent(local(20, 10)), yesterday) == pol.SENT
    denied = pol.judge(POLICY, intent(local(20, 9, 59)), yesterday)
    assert (denied.reason, denied.note) == (pol.FREQUENCY_CAP, "sms: at most 1 per 1d")


def test_a_channel_cap_counts_only_its_channel() -> None:
    assert pol.judge(POLICY, intent(local(20, 10)), [contact(local(20, 9))]) == pol.SENT


def test_planned_contacts_after_the_new_one_count_in_windows_that_contain_it() -> None:
    later = [contact(local(21, 9), channel="sms", sent=False)]
    assert pol.judge(POLICY, intent(local(20, 10)), later).reason == pol.FREQUENCY_CAP
    assert pol.judge(POLICY, intent(local(20, 9)), later) == pol.SENT


def test_a_zero_cap_forbids_the_channel() -> None:
    closed = pol.Policy(SHANGHAI, caps=(pol.Cap(0, dt.timedelta(days=1), "store"),))
    assert pol.judge(closed, intent(local(20, 10), channel="store"), []).reason == \
        pol.FREQUENCY_CAP


def test_over_cap_checks_every_window_containing_the_contact() -> None:
    cap = pol.Cap(2, dt.timedelta(hours=10))
    times = [local(20, 1), local(20, 12)]
    assert not pol.over_cap(cap, local(20, 6), times)      # windows hold 2 at most
    assert pol.over_cap(cap, local(20, 6), [*times, local(20, 14)])  # (04:00, 14:00] holds 3


# --- opt-out ---

def test_an_opt_out_suppresses_even_in_quiet_hours() -> None:
    for opt_out, note in ((("sms",), "opted out of sms"), (("all",), "opted out of everything")):
        denied = pol.at_send(POLICY, intent(local(20, 23), opt_out=opt_out), [], 0)
        assert (denied.verdict, denied.reason, denied.note) == (pol.SUPPRESS, pol.OPTED_OUT, note)
    assert pol.at_send(POLICY, intent(local(20, 10), opt_out=("email",)), [], 0) == pol.SENT


# --- arbitration: the higher priority wins within the window ---

def test_a_higher_priority_playbook_within_the_window_wins() -> None:
    welcome = [contact(local(20, 10), playbook="welcome", priority=50)]
    denied = pol.judge(POLICY, intent(local(21, 9, 59), channel="email"), welcome)
    assert (denied.verdict, denied.reason) == (pol.SUPPRESS, pol.ARBITRATION)
    assert denied.note.startswith("welcome (priority 50)")
    assert pol.judge(POLICY, intent(local(21, 10), channel="email"), welcome) == pol.SENT


def test_equal_priorities_the_smaller_playbook_id_wins() -> None:
    rival = [contact(local(20, 10), playbook="alpha", priority=40)]
    assert pol.judge(POLICY, intent(local(20, 12), channel="email", playbook="beta"),
                     rival).reason == pol.ARBITRATION
    other = [contact(local(20, 10), playbook="zeta", priority=40)]
    assert pol.judge(POLICY, intent(local(20, 12), channel="email", playbook="beta"),
                     other) == pol.SENT


def test_the_same_playbook_never_arbitrates_against_itself() -> None:
    own = [contact(local(20, 10), playbook="winback", priority=90)]
    assert pol.rival(POLICY, intent(local(20, 11), channel="email"), own) is None


def test_at_plan_the_winner_suppresses_lower_ranked_planned_contacts() -> None:
    planned = contact(local(20, 12), channel="email", playbook="upsell", priority=10,
                      sent=False, task_id=7)
    sent = contact(local(20, 11), channel="email", playbook="upsell", priority=10)
    decision, beaten = pol.at_plan(POLICY, intent(local(20, 10), channel="email"),
                                   [planned, sent])
    assert decision == pol.SENT and beaten == [planned]


def test_at_plan_the_beaten_no_longer_count_against_the_winners_caps() -> None:
    full = [contact(local(20, 12 + i), channel="email", playbook="upsell", priority=10,
                    sent=False, task_id=i) for i in range(3)]
    decision, beaten = pol.at_plan(POLICY, intent(local(20, 10), channel="email"), full)
    assert decision == pol.SENT and len(beaten) == 3


def test_at_plan_quiet_hours_move_the_task_and_it_is_judged_when_it_goes() -> None:
    decision, beaten = pol.at_plan(POLICY, intent(local(20, 22)), [])
    assert (decision.verdict, decision.until, beaten) == (pol.HOLD, local(21, 9), [])
    sent_at_nine = [contact(local(20, 9, 30), channel="sms")]
    denied, _ = pol.at_plan(POLICY, intent(local(20, 22)), sent_at_nine)
    assert denied.reason == pol.FREQUENCY_CAP  # 09:00 next day is within 1d of 09:30


def test_a_suppressed_task_beats_nobody() -> None:
    planned = contact(local(20, 12), channel="email", playbook="upsell", priority=10,
                      sent=False, task_id=7)
    sms_today = [contact(local(20, 9), channel="sms"), planned]
    decision, beaten = pol.at_plan(POLICY, intent(local(20, 10)), sms_today)
    assert decision.reason == pol.FREQUENCY_CAP and beaten == []


# --- contact classes ---

def test_care_neither_loses_nor_wins_arbitration_against_marketing() -> None:
    upsell = contact(local(20, 10), "sms", "upsell", 90)
    greeting = pol.Intent(local(20, 11), "sms", "birthday", 10, kind=pol.CARE)
    assert pol.rival(POLICY, greeting, [upsell]) is None
    planned = pol.Contact(local(20, 12), "sms", "birthday", 10, 7, False, pol.CARE)
    assert pol.losers(POLICY, intent(local(20, 11), priority=90), [planned]) == []
    other_care = pol.Contact(local(20, 10), "sms", "vip_care", 50, kind=pol.CARE)
    assert pol.rival(POLICY, greeting, [other_care]) == other_care


def test_retention_and_sales_are_one_family_in_arbitration() -> None:
    sale = contact(local(20, 10), "sms", "upsell", 90)
    keep = pol.Intent(local(20, 11), "sms", "churn_risk", 80, kind=pol.RETENTION)
    assert pol.rival(POLICY, keep, [sale]) == sale


def test_marketing_caps_neither_count_nor_stop_care() -> None:
    greeting = contact(local(20, 10), "sms", "birthday", 10)
    greeting = pol.Contact(greeting.at, "sms", "birthday", 10, kind=pol.CARE)
    sale = pol.Intent(local(20, 11), "sms", "upsell", 90)
    assert pol.judge(POLICY, sale, [greeting]) == pol.SENT
    care = pol.Intent(local(20, 11), "sms", "vip_care", 10, kind=pol.SERVICE)
    assert pol.judge(POLICY, care, [contact(local(20, 10), "sms", "upsell", 90)]) == pol.SENT
    own = pol.Policy(SHANGHAI, caps=(pol.Cap(1, dt.timedelta(days=1), "sms",
                                             frozenset({pol.CARE})),))
    stopped = pol.judge(own, pol.Intent(local(20, 11), "sms", "vip_care", 10, kind=pol.CARE),
                        [greeting])
    assert stopped.reason == pol.FREQUENCY_CAP and stopped.note == "sms (care): at most 1 per 1d"


def test_opt_outs_stop_every_class() -> None:
    greeting = pol.Intent(local(20, 11), "sms", "birthday", 10, ("sms",), pol.CARE)
    assert pol.judge(POLICY, greeting, []).reason == pol.OPTED_OUT


def test_only_care_and_service_are_told_what_they_are_spared() -> None:
    assert pol.exemption(pol.SALES) is None and pol.exemption(pol.RETENTION) is None
    assert pol.exemption(pol.CARE) == ("care: never arbitrated against marketing, outside "
                                       "marketing caps")


# --- config ---

def _config(policy: str) -> str:
    base = (ROOT / "config.yaml").read_text(encoding="utf-8").split("\ncontact_policy:")[0]
    return base + policy


def test_no_policy_section_means_no_limits() -> None:
    config = parse_config(_config(""), "config.yaml")
    assert config.policy.caps == () and config.policy.arbitration is None
    assert pol.at_send(config.policy, intent(local(20, 3)), [contact(local(20, 2))] * 9,
                       10**9) == pol.SENT


def test_the_shipped_policy_loads() -> None:
    config = parse_config((ROOT / "config.yaml").read_text(encoding="utf-8"), "config.yaml")
    assert config.policy.caps and config.policy.arbitration == dt.timedelta(days=1)
    assert config.policy.timezone == SHANGHAI
    assert config.policy.declines == Declines(2, dt.timedelta(days=30))


@pytest.mark.parametrize(("policy", "message"), [
    ("contact_policy:\n  caps: [{channel: fax, max: 1, per: 1d}]\n", "unknown channel 'fax'"),
    ("contact_policy:\n  channels: {fax: {capacity: 1}}\n", "unknown channel 'fax'"),
    ("contact_policy:\n  channels: {sms: {quiet_hours: '9pm-8am'}}\n", "HH:MM-HH:MM"),
    ("contact_policy:\n  channels: {sms: {quiet_hours: '21:00-21:00'}}\n", "same time"),
    ("contact_policy:\n  channels: {sms: {capacity: 0}}\n", "expected 1 or more"),
    ("contact_policy:\n  caps: [{max: 1, per: 1y}]\n", "per"),
    ("contact_policy:\n  caps: [{max: 1}]\n", "per"),
    ("contact_policy:\n  arbitration: {window: soon}\n", "window"),
    ("contact_policy:\n  frequency: {}\n", "frequency"),
    ("contact_policy:\n  declines: {max: 0, within: 30d}\n", "expected 1 or more"),
    ("contact_policy:\n  declines: {max: 2}\n", "within"),
    ("contact_policy:\n  caps: [{classes: [vip], max: 1, per: 1d}]\n", "classes"),
    ("contact_policy:\n  caps: [{classes: [], max: 1, per: 1d}]\n", "at least one class"),
])
def test_a_bad_policy_names_the_place(policy: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_config(_config(policy), "config.yaml")
    text = "\n".join(str(p) for p in caught.value.problems)
    assert message in text and "config.yaml:" in text


@given(st.lists(st.integers(0, 600), max_size=8), st.integers(0, 600), st.integers(1, 200),
       st.integers(0, 4))
def test_over_cap_agrees_with_every_window_checked_minute_by_minute(
        others: list[int], at: int, per: int, most: int) -> None:
    base = local(20, 0)
    minute = dt.timedelta(minutes=1)
    cap = pol.Cap(most, per * minute)
    everything = [*others, at]
    brute = any(sum(1 for t in everything if end - per < t <= end) > most
                for end in range(at, at + per))
    assert pol.over_cap(cap, base + at * minute, [base + t * minute for t in others]) == brute
