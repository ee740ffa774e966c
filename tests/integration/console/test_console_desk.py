"""The manager's desk as the unified view per customer (DESIGN 10) on SQLite and PostgreSQL:
tasks grouped by customer with their talking points, one call recording a result on each
task and an outcome on each offer (each on its own ticket), every attempt kept, nothing
written on bad input; and who may frame which page (the compact view for a CRM's pop-up)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from support.console_site import ConsoleOf, ConsoleSite, customer_row
from werkzeug.test import TestResponse

from adapters.db.schema import contacts, customers, entries, events, task_attempts, tasks
from engine.clock import Clock, FixedClock
from engine.config import Config
from engine.config_loader import parse_config
from engine.errors import ValidationError

ROOT = Path(__file__).resolve().parents[3]
AT = dt.datetime(2026, 12, 10, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
NOW = AT + dt.timedelta(days=3, hours=2)  # the renewal call (2 days' delay) is due too
CRM = "https://crm.example.cn"
USERS = {"mia": ["manager:m01"], "max": ["manager:m02"], "sam": ["agent:store"]}
IDS = [f"c{i:02d}" for i in range(30)]


class Site(ConsoleSite):
    @property
    def churn(self) -> int:  # churn_risk's ticket: offers prepay_168, renew_discount
        return self.tickets[0]

    @property
    def renewal(self) -> int:  # renewal's ticket: a call of its own
        return self.tickets[1]


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


@pytest.fixture
def site(console_site: ConsoleOf[Site], config: Config) -> Site:
    """churn_risk and renewal executing since AT for 30 customers of m01 on the 96-yuan plan,
    their contracts ending 2027-01-20."""
    made = console_site(Site, dataclasses.replace(config, embed_origins=(CRM,)), USERS, NOW)
    made.executing(("churn_risk", "renewal"),
                   [customer_row(cid, i, AT) for i, cid in enumerate(IDS)], AT)
    return made


def _sections(page: str) -> dict[str, str]:
    """Each customer's card on the desk, by customer id."""
    return dict(re.findall(r'<section class="card desk-customer" id="customer-([^"]+)"(.*?)'
                           r"</section>", page, re.S))


def _call_form(section: str) -> dict[str, str]:
    return dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', section))


def _treated_by_both(site: Site) -> str:
    both = [r.customer_id for r in site.rows(entries, ticket_id=site.churn, grp="treatment")
            if site.rows(entries, ticket_id=site.renewal, customer_id=r.customer_id,
                         grp="treatment")]
    assert both
    return str(both[0])


def test_the_desk_groups_tasks_by_customer_with_their_talking_points(site: Site) -> None:
    site.sign_in("mia")
    zh = site.page("/console/desk")
    cards = _sections(zh)
    mine = {r.customer_id for r in site.rows(tasks, route="manager:m01")}
    assert set(cards) <= mine and len(cards) >= 2
    who = _treated_by_both(site)
    card = cards[who]
    assert set(re.findall(r'<li class="task" id="task-(\d+)"', card)) == {
        str(r.id) for r in site.rows(tasks, customer_id=who, route="manager:m01")}
    assert "churn_risk / retention_call" in card and "renewal / call" in card
    assert "预存168元得504元" in card and f"客户{who}您好" in card  # offer and its script
    assert card.index(f'name="offer:{site.churn}:prepay_168"') < card.index(
        f'name="offer:{site.churn}:renew_discount"')
    phone = site.rows(customers, id=who)[0].phone
    assert f'href="tel:{phone}"' in card  # in full: the manager dials (docs/CONSOLE.md)
    assert "合同到期 2027-01-20" in card and "流失风险" in card
    site.sign_in("mia", "en")
    en = _sections(site.page("/console/desk"))[who]
    assert "Prepay 168 yuan" in en and "Contract ends 2027-01-20 · in 38 days" in en
    assert "Churn risk 80.0%" in en
    site.sign_in("max")
    assert _sections(site.page("/console/desk")) == {}  # nobody of m02's has a task


def test_one_call_records_each_task_and_offer_on_its_own_ticket(site: Site) -> None:
    who = _treated_by_both(site)
    site.sign_in("mia")
    card = _sections(site.page("/console/desk"))[who]
    call = _call_form(card)
    churn_task = next(r.id for r in site.rows(tasks, customer_id=who, ticket_id=site.churn,
                                              route="manager:m01"))
    renewal_task = next(r.id for r in site.rows(tasks, customer_id=who,
                                                ticket_id=site.renewal, route="manager:m01"))
    form = {**call, f"task:{churn_task}": "connected", f"task:{renewal_task}": "no_answer",
            f"offer:{site.churn}:prepay_168": "interested",
            f"offer:{site.churn}:renew_discount": "declined", "note": "想想再说"}
    done = site.post(f"/console/desk/customers/{who}/call", form)
    assert done.status_code == 303 and done.location == f"/console/desk#customer-{who}"
    states = {r.id: r.state for r in site.rows(tasks, customer_id=who, route="manager:m01")}
    assert (states[churn_task], states[renewal_task]) == ("connected", "no_answer")
    assert {(r.task_id, r.ticket_id, r.status, r.note) for r in site.rows(task_attempts)} == {
        (churn_task, site.churn, "connected", "想想再说"),
        (renewal_task, site.renewal, "no_answer", "想想再说")}
    assert {(c.offer, c.ticket_id, c.outcome, c.channel) for c in site.rows(contacts)} == {
        ("prepay_168", site.churn, "interested", "outbound_call"),
        ("renew_discount", site.churn, "declined", "outbound_call")}
    again = site.post(f"/console/desk/customers/{who}/call", form)  # a double click
    assert again.status_code == 303 and "已记录过" in site.page("/console/desk")
    assert len(site.rows(task_attempts)) == 2 and len(site.rows(contacts)) == 2


def test_every_attempt_is_kept_and_shown(site: Site) -> None:
    """The task keeps its furthest result; each call stays in the trajectory."""
    who = _treated_by_both(site)
    site.sign_in("mia", "en")
    task_id = next(r.id for r in site.rows(tasks, customer_id=who, ticket_id=site.renewal,
                                           route="manager:m01"))
    for status, note in (("no_answer", "first try"), ("no_answer", "second try"),
                         ("connected", "third try")):
        call = _call_form(_sections(site.page("/console/desk"))[who])
        reply = site.post(f"/console/desk/customers/{who}/call",
                          {**call, f"task:{task_id}": status, "note": note})
        assert reply.status_code == 303
    assert [(a.status, a.note) for a in sorted(site.rows(task_attempts), key=lambda a: a.note)] \
        == [("no_answer", "first try"), ("no_answer", "second try"),
            ("connected", "third try")]
    assert site.rows(tasks, id=task_id)[0].state == "connected"
    page = site.page(f"/console/customers/{who}?channel=outbound_call")
    trajectory = page[page.index('id="trajectory"'):]
    assert all(n in trajectory for n in ("first try", "second try", "third try"))
    assert "third try" in _sections(site.page("/console/desk"))[who]  # the desk's history


@pytest.mark.parametrize(("change", "field", "status"), [
    ({"offer:{churn}:bogus": "interested"}, "offer:{churn}:bogus", 400),
    ({"offer:{churn}:prepay_168": "sold"}, "offer:{churn}:prepay_168", 400),
    ({"offer:999:prepay_168": "presented"}, "offer:999:prepay_168", 400),
    ({"task:{task}": "maybe"}, "task:{task}", 400),
    ({"task:{other}": "connected"}, "task:{other}", 400),
    ({"task:999999": "connected"}, "task:999999", 400),
    ({"colour": "red"}, "colour", 400),
    ({"call_id": "x"}, "call_id", 400),
    ({"channel": "fax"}, "channel", 400),
    ({"task:{task}": "declined"}, "reason:{task}", 400),  # config: a declined call needs one
    ({"task:{task}": "connected", "reason:{task}": "bogus"}, "reason:{task}", 400),
    ({"reason:{other}": "price"}, "reason:{other}", 400),  # a reason without its result
])
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
        site: Site, change: dict[str, str], field: str, status: int) -> None:
    who = _treated_by_both(site)
    site.sign_in("mia", "en")
    call = _call_form(_sections(site.page("/console/desk"))[who])
    mine = [r.id for r in site.rows(tasks, customer_id=who, route="manager:m01")]
    other = next(r.id for r in site.rows(tasks, route="manager:m01") if r.customer_id != who)
    names = {"churn": site.churn, "task": mine[0], "other": other}
    good = {f"task:{mine[0]}": "connected", f"offer:{site.churn}:prepay_168": "handled"}
    bad = {k.format(**names): v for k, v in change.items()}
    before = (site.rows(tasks), site.rows(events))
    refused = site.post(f"/console/desk/customers/{who}/call", {**call, **good, **bad})
    assert refused.status_code == status
    assert field.format(**names) in refused.get_data(as_text=True)
    assert (site.rows(tasks), site.rows(events)) == before
    assert site.rows(contacts) == [] and site.rows(task_attempts) == []


def test_a_declined_call_keeps_its_reason_and_a_wrong_number_flags_the_phone(
        site: Site) -> None:
    """config.yaml `result_reasons`: the desk offers the codes in the reader's language, a
    declined result needs one, and `wrong_number` marks the customer's phone as bad."""
    who = _treated_by_both(site)
    site.sign_in("mia")
    card = _sections(site.page("/console/desk"))[who]
    assert "不感兴趣" in card and "号码错误" in card and 'name="reason:' in card
    churn_task, renewal_task = (next(r.id for r in site.rows(
        tasks, customer_id=who, ticket_id=ticket, route="manager:m01"))
        for ticket in (site.churn, site.renewal))
    form = {**_call_form(card), f"task:{churn_task}": "declined",
            f"reason:{churn_task}": "price", f"task:{renewal_task}": "declined",
            f"reason:{renewal_task}": "wrong_number"}
    assert site.post(f"/console/desk/customers/{who}/call", form).status_code == 303
    reasons = {r.id: (r.state, r.reason) for r in site.rows(tasks, customer_id=who,
                                                            route="manager:m01")}
    assert reasons[churn_task] == ("declined", "price")
    assert reasons[renewal_task] == ("declined", "wrong_number")
    customer = site.rows(customers, id=who)[0]
    assert customer.bad_phone == customer.phone is not None


def test_another_managers_task_is_forbidden_and_an_empty_call_refused(site: Site) -> None:
    who = _treated_by_both(site)
    with site.state.engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == who).values(manager="m02"))
    site.sign_in("max")
    task_id = next(r.id for r in site.rows(tasks, customer_id=who, route="manager:m01"))
    form = {"call_id": "a" * 32, "channel": "outbound_call", f"task:{task_id}": "connected"}
    assert site.post(f"/console/desk/customers/{who}/call", form).status_code == 403
    empty = site.post(f"/console/desk/customers/{who}/call", {**form, f"task:{task_id}": ""})
    assert empty.status_code == 400 and "results" in empty.get_data(as_text=True)
    assert site.rows(task_attempts) == []


def _framing(reply: TestResponse) -> tuple[str | None, str | None]:
    return reply.headers.get("Content-Security-Policy"), reply.headers.get("X-Frame-Options")


def test_only_the_compact_view_may_be_framed_and_only_by_the_configured_crm(
        site: Site) -> None:
    who = _treated_by_both(site)
    signed_out = site.client.get(f"/console/customers/{who}/compact?channel=store")
    assert signed_out.status_code == 401 and 'id="embed-signin"' in signed_out.get_data(
        as_text=True)
    assert _framing(signed_out) == (f"frame-ancestors 'self' {CRM}", None)
    assert _framing(site.client.get("/console/signin")) == ("frame-ancestors 'none'", "DENY")
    site.sign_in("sam", "en")
    compact = site.client.get(f"/console/customers/{who}/compact?channel=store")
    text = compact.get_data(as_text=True)
    assert compact.status_code == 200 and 'class="top"' not in text  # no header
    assert "Prepay 168 yuan" in text and 'name="back" value="compact"' in text
    assert _framing(compact) == (f"frame-ancestors 'self' {CRM}", None)
    for path in (f"/console/customers/{who}?channel=store", "/console/customers",
                 "/console/home", "/healthz"):
        assert _framing(site.client.get(path)) == ("frame-ancestors 'none'", "DENY"), path
    first = re.search(r'<form method="post" action="[^"]*/contacts"(.*?)</form>', text, re.S)
    assert first is not None
    form = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', first.group(1)))
    recorded = site.post(f"/console/customers/{who}/contacts", {**form, "outcome": "presented"})
    assert recorded.location == f"/console/customers/{who}/compact?channel=store"
    assert _framing(recorded)[0] == f"frame-ancestors 'self' {CRM}"
    refused = site.post(f"/console/customers/{who}/contacts", {**form, "outcome": "sold"})
    assert refused.status_code == 400 and _framing(refused)[0] == f"frame-ancestors 'self' {CRM}"
    plain = site.post(f"/console/customers/{who}/contacts",
                      {**form, "back": "", "outcome": "sold"})
    assert _framing(plain) == ("frame-ancestors 'none'", "DENY")
    site.sign_in("mia")
    assert _framing(site.client.get("/console/desk"))[0] == "frame-ancestors 'none'"


def test_embed_origins_are_checked_naming_the_field() -> None:
    text = (ROOT / "config.yaml").read_text().replace(
        "embed_origins: []", "embed_origins: [crm.example.cn]")
    with pytest.raises(ValidationError, match=r"console\.embed_origins\.0: expected an origin"):
        parse_config(text, "config.yaml")
    ok = text.replace("[crm.example.cn]", f"[{CRM}, 'http://10.0.0.7:8080']")
    assert parse_config(ok, "config.yaml").embed_origins == (CRM, "http://10.0.0.7:8080")
