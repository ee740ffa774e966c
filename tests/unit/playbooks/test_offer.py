"""Offers: the shipped ones load, every mistake is placed at file:line:column, steps name
offers that exist, and the ranking keeps only what may be given now, in the steps' order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from support.folders import with_rules

from engine.config import Config
from engine.errors import ValidationError
from engine.language.customer import facts
from engine.playbooks.library import check_paths, load_library
from engine.playbooks.offer import Offer, check_offer_versions, parse_offer
from engine.playbooks.offer_ranking import OfferCandidate, rank_offers, render_script
from engine.playbooks.playbook_loader import parse_playbook
from engine.tickets.users import User, check_roles

ROOT = Path(__file__).resolve().parents[3]

OFFER = """\
offer: prepay_168
version: 1
title: {zh: 预存168元得504元, en: "Prepay 168, get 504"}
script:
  zh: "{name}您好,您的{attr.plan_fee}元套餐可参加活动"
  en: "Hello {name}, your {attr.plan_fee}-yuan plan qualifies"
eligible:
  all:
    - attr.plan_fee: {eq: 96}
    - stage: {in: [growth, maturity, decline]}
channels: [outbound_call, store, hotline, online]
valid: {from: 2026-12-01, until: 2027-03-31}
limit: 2
cost: 336
"""


def problems_of(text: str, config: Config) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_offer(text, "o.yaml", config)
    return [str(p) for p in caught.value.problems]


def test_an_offer_loads_with_every_field(config: Config) -> None:
    offer = parse_offer(OFFER, "o.yaml", config)
    assert (offer.id, offer.version, offer.limit, offer.cost) == ("prepay_168", 1, 2, 336.0)
    assert offer.title == {"zh": "预存168元得504元", "en": "Prepay 168, get 504"}
    assert offer.channels == ("outbound_call", "store", "hotline", "online")
    assert (offer.valid_from, offer.valid_until) == (dt.date(2026, 12, 1), dt.date(2027, 3, 31))
    assert len(offer.hash) == 64


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("cost: 336", "cost: 336\nprice: 1", "o.yaml:15:1: price: unknown key"),
    ("version: 1", "version: '1'", "o.yaml:2:1: version: expected an integer"),
    ("offer: prepay_168", "offer: Prepay", "o.yaml:1:1: offer: expected an id"),
    ("- attr.plan_fee: {eq: 96}", "- attr.plan_fees: {eq: 96}",
     "o.yaml:9:7: unknown field 'attr.plan_fees'"),
    ("{eq: 96}", "{eq: '96'}", "o.yaml:9:23:"),
    ("your {attr.plan_fee}-yuan", "your {attr.fee}-yuan",
     "o.yaml:6:3: unknown field {attr.fee} in the script"),
    ("hotline, online]", "hotline, web]", "o.yaml:11:43: unknown channel 'web'"),
    ("until: 2027-03-31", "until: 2027-02-30", "o.yaml:12:27: valid.until: expected a date"),
    ("until: 2027-03-31", "until: 2026-11-30", "o.yaml:12:27: valid.until 2026-11-30 is before"),
    ("valid: {from: 2026-12-01, ", "valid: {since: 2026-12-01, ",
     "o.yaml:12:9: valid.since: unknown key"),
    ("  en: \"Hello", "  fr: \"Hello", "o.yaml:6:3: script.fr: unknown key"),
    ("limit: 2", "limit: 0", "o.yaml:13:1: limit: expected a positive integer"),
])
def test_mistakes_are_placed(config: Config, old: str, new: str, expected: str) -> None:
    assert old in OFFER
    found = problems_of(OFFER.replace(old, new, 1), config)
    assert any(p.startswith(expected) for p in found), found


def test_a_missing_language_is_an_error(config: Config) -> None:
    text = OFFER.replace('title: {zh: 预存168元得504元, en: "Prepay 168, get 504"}',
                         "title: {zh: 预存168元得504元}")
    assert any(p.startswith("o.yaml:3:1: title.en: this key is required")
               for p in problems_of(text, config))


def test_a_step_naming_an_unknown_offer_is_an_error_at_its_line(config: Config) -> None:
    text = """\
playbook: p
title: P
version: 1
trigger: {schedule: "0 9 * * *"}
audience: {tier: {eq: gold}}
workflow: standard
steps:
  - {id: sms, channel: sms, template: t, offers: [prepay_168, nope]}
"""
    library = load_library(config)
    with pytest.raises(ValidationError) as caught:
        parse_playbook(text, "p.yaml", config, library.workflows, library.offers)
    assert [str(p) for p in caught.value.problems] == [
        "p.yaml:8:63: unknown offer 'nope' (expected one of the offers in rules/offers/: "
        "data_addon, prepay_168, renew_discount, winback_credit)"]
    ok = parse_playbook(text.replace(", nope", ""), "p.yaml", config, library.workflows,
                        library.offers)
    assert ok.steps[0].offers == ("prepay_168",)


def test_the_library_loads_offers_all_or_nothing(config: Config, tmp_path: Path) -> None:
    library = load_library(config)
    assert set(library.offers) == {"prepay_168", "renew_discount", "data_addon",
                                   "winback_credit"}
    assert library.playbooks["churn_risk"].steps[0].offers == ("prepay_168", "renew_discount")
    rules = tmp_path / "rules"
    (rules / "offers").mkdir(parents=True)
    (rules / "offers" / "bad.yaml").write_text(OFFER.replace("limit: 2", "limit: many"),
                                               encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_library(with_rules(config, rules))
    assert "bad.yaml:13:1: limit: expected an integer" in str(caught.value)


def test_validate_reports_offer_files(config: Config) -> None:
    checked = check_paths([ROOT / "rules" / "offers"], config)
    assert checked.problems == ()
    assert f"{ROOT / 'rules' / 'offers' / 'prepay_168.yaml'}: OK, offer prepay_168 version 1" \
        in checked.summaries


def test_changed_content_under_a_used_version_must_bump(config: Config) -> None:
    offer = parse_offer(OFFER, "o.yaml", config)
    assert check_offer_versions({offer.id: offer}, {(offer.id, 1): offer.hash}) == []
    found = check_offer_versions({offer.id: offer}, {(offer.id, 1): "0" * 64})
    assert [p.line for p in found] == [2] and "bump the version" in found[0].message


# --- ranking ---

TODAY = dt.date(2026, 12, 31)


def customer(config: Config, **fields: object) -> dict[str, object]:
    record: dict[str, object] = {"id": "c1", "name": "张三", "joined_on": dt.date(2020, 1, 1),
                                 "arpu": 96.0, "attrs": {"plan_fee": 96.0}, **fields}
    return facts(record, TODAY, config.tiers, config.lifecycle)


@pytest.fixture
def offers(config: Config) -> dict[str, Offer]:
    prepay = parse_offer(OFFER, "prepay.yaml", config)
    other = parse_offer(OFFER.replace("offer: prepay_168", "offer: other")
                        .replace("- attr.plan_fee: {eq: 96}", "- arpu: {gt: 0}")
                        .replace("limit: 2\n", ""), "other.yaml", config)
    return {prepay.id: prepay, other.id: other}


def ranked_ids(offers: dict[str, Offer], fact: dict[str, object], *, today: dt.date = TODAY,
               channel: str = "online", handled: dict[str, int] | None = None) -> list[str]:
    candidates = [OfferCandidate("prepay_168", {"step": "a"}), OfferCandidate("missing"),
                  OfferCandidate("other", {"step": "b"}),
                  OfferCandidate("prepay_168", {"step": "c"})]
    found = rank_offers(candidates, offers, fact, today, channel, handled or {})
    assert [r.rank for r in found] == list(range(1, len(found) + 1))
    return [r.offer.id for r in found]


def test_ranking_keeps_the_steps_order_once_each(config: Config,
                                                 offers: dict[str, Offer]) -> None:
    found = rank_offers([OfferCandidate("prepay_168", {"step": "a"}), OfferCandidate("other"),
                         OfferCandidate("prepay_168", {"step": "c"})], offers,
                        customer(config), TODAY, "online", {})
    assert [(r.offer.id, r.rank, dict(r.source)) for r in found] == [
        ("prepay_168", 1, {"step": "a"}), ("other", 2, {})]


def test_ranking_filters_eligibility(config: Config, offers: dict[str, Offer]) -> None:
    assert ranked_ids(offers, customer(config, attrs={"plan_fee": 128.0})) == ["other"]
    assert ranked_ids(offers, customer(config, attrs={})) == ["other"]
    churned = customer(config, churned_on=dt.date(2026, 12, 1))
    assert ranked_ids(offers, churned) == []


def test_ranking_filters_the_validity_window(config: Config, offers: dict[str, Offer]) -> None:
    fact = customer(config)
    assert ranked_ids(offers, fact, today=dt.date(2026, 12, 1)) == ["prepay_168", "other"]
    assert ranked_ids(offers, fact, today=dt.date(2027, 3, 31)) == ["prepay_168", "other"]
    assert ranked_ids(offers, fact, today=dt.date(2026, 11, 30)) == []
    assert ranked_ids(offers, fact, today=dt.date(2027, 4, 1)) == []


def test_ranking_filters_channel_and_limit(config: Config, offers: dict[str, Offer]) -> None:
    fact = customer(config)
    assert ranked_ids(offers, fact, channel="sms") == []
    assert ranked_ids(offers, fact, handled={"prepay_168": 1}) == ["prepay_168", "other"]
    assert ranked_ids(offers, fact, handled={"prepay_168": 2}) == ["other"]


def test_scripts_render_fields_in_the_language_and_missing_as_empty(
        config: Config, offers: dict[str, Offer]) -> None:
    prepay = offers["prepay_168"]
    assert render_script(prepay, customer(config), "zh") == "张三您好,您的96元套餐可参加活动"
    assert render_script(prepay, customer(config), "en") == \
        "Hello 张三, your 96-yuan plan qualifies"
    assert render_script(prepay, customer(config, name=None, attrs={}), "en") == \
        "Hello , your -yuan plan qualifies"
    assert render_script(prepay, {}, "fr") == "您好,您的元套餐可参加活动"


def test_agent_roles_are_bound_to_channels_or_contact_channels(config: Config) -> None:
    assert check_roles(["agent:online", "agent:store", "agent:sms"], config)
    with pytest.raises(ValidationError, match="'agent:fax'"):
        check_roles(["agent:fax"], config)
    assert User("w", frozenset({"agent:online", "viewer"})).serves() == {"online"}
