"""The customer's page in the console (DESIGN 10) on SQLite and PostgreSQL: a store agent
finds a customer by id or phone, sees the offers and their scripts in the page's language or
the control notice, records outcomes (a form sent twice is one contact; `handled` closes the
ticket's open tasks), and is refused on another channel; bad input writes nothing; the
manager's desk links to the page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from support.console_site import ConsoleOf, ConsoleSite, customer_row

from adapters.db.schema import contacts, customer_views, entries, tasks
from engine.clock import Clock, FixedClock
from engine.config import Config
from engine.tasks import task as tk

AT = dt.datetime(2026, 12, 10, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
NOW = AT + dt.timedelta(hours=3)
USERS = {"sam": ["agent:store"], "hal": ["agent:hotline"], "mia": ["manager:m01"],
         "max": ["manager:m02"], "vic": ["viewer"]}
IDS = [f"c{i:02d}" for i in range(40)]


@dataclass
class Site(ConsoleSite):
    treated: str = ""
    control: str = ""

    @property
    def ticket_id(self) -> int:  # churn_risk's
        return self.tickets[0]


@pytest.fixture
def clock() -> Clock:
    return FixedClock(NOW)


@pytest.fixture
def site(console_site: ConsoleOf[Site], config: Config) -> Site:
    """churn_risk executing since AT for 40 customers on the 96-yuan plan (c00 and c01 share a
    phone); the others' phones are their own."""
    made = console_site(Site, config, USERS, NOW)
    [ticket] = made.executing(("churn_risk",),
                              [customer_row(cid, max(i, 1), AT) for i, cid in enumerate(IDS)],
                              AT)
    groups = {grp: min(r.customer_id for r in made.rows(entries, ticket_id=ticket, grp=grp))
              for grp in ("treatment", "control")}
    made.treated, made.control = groups["treatment"], groups["control"]
    return made


def _forms(page: str) -> list[dict[str, str]]:
    """The hidden fields of each contact form on the page."""
    return [dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
            for form in re.findall(r'<form method="post" action="[^"]*/contacts"(.*?)</form>',
                                   page, re.S)]


def test_the_page_shows_the_offers_and_script_in_the_page_language(site: Site) -> None:
    site.sign_in("sam")
    zh = site.page(f"/console/customers/{site.treated}")
    assert "预存168元得504元" in zh and f"客户{site.treated}您好,您的96元套餐" in zh
    assert "+86138" not in zh and "138****" in zh  # the phone is masked
    assert 'id="control-notice"' not in zh and "已介绍" in zh and "已办理" in zh
    assert zh.index('id="offer-prepay_168"') < zh.index('id="offer-renew_discount"')
    site.sign_in("sam", "en")
    en = site.page(f"/console/customers/{site.treated}?channel=store")
    assert "Prepay 168 yuan" in en and f"Hello 客户{site.treated}, your 96-yuan plan" in en
    assert ">handled<" in en
    assert [v.channel for v in site.rows(customer_views)] == ["store", "store"]


def test_a_control_customer_gets_the_notice_and_no_offer(site: Site) -> None:
    site.sign_in("sam")
    zh = site.page(f"/console/customers/{site.control}")
    assert "在对照组中：请勿推荐任何政策。" in zh and 'id="offer-' not in zh
    site.sign_in("sam", "en")
    en = site.page(f"/console/customers/{site.control}")
    assert "In a control group: do not offer." in en and "churn_risk" in en


def test_handled_closes_the_tickets_open_tasks_and_a_second_send_is_harmless(
        site: Site) -> None:
    site.sign_in("sam")
    before = {r.state for r in site.rows(tasks, customer_id=site.treated)}
    assert before and before <= set(tk.OPEN)
    form = _forms(site.page(f"/console/customers/{site.treated}"))[0]
    assert form["offer"] == "prepay_168" and form["channel"] == "store"
    sent = {**form, "outcome": "handled", "note": "已办理预存"}
    done = site.post(f"/console/customers/{site.treated}/contacts", sent)
    assert done.status_code == 303
    assert done.location == f"/console/customers/{site.treated}?channel=store"
    assert "已记录。" in site.page(done.location)
    again = site.post(f"/console/customers/{site.treated}/contacts", sent)
    assert again.status_code == 303
    [contact] = site.rows(contacts)
    assert (contact.outcome, contact.by, contact.ticket_id) == (
        "handled", "sam-zh-CN", site.ticket_id)
    assert {r.state for r in site.rows(tasks, customer_id=site.treated)} == {"cancelled"}
    page = site.page(f"/console/customers/{site.treated}")
    assert "已记录过" in page and "已办理预存" in page  # the trajectory


def test_a_referral_makes_a_task_in_the_target_channel(site: Site) -> None:
    site.sign_in("sam", "en")
    refer = next(f for f in _forms(site.page(f"/console/customers/{site.treated}"))
                 if f.get("outcome") == "referred")
    done = site.post(f"/console/customers/{site.treated}/contacts",
                     {**refer, "ticket_id": str(site.ticket_id), "refer_channel": "sms",
                      "note": "send the terms"})
    assert done.status_code == 303 and "Recorded." in site.page(done.location)
    [made] = site.rows(tasks, customer_id=site.treated, channel="sms", route="pool",
                       step="referral>sms")
    assert made.payload["referral"]["note"] == "send the terms"


def test_an_agent_of_another_channel_and_another_manager_are_refused(site: Site) -> None:
    site.sign_in("hal")
    assert site.client.get(f"/console/customers/{site.treated}").status_code == 200  # hotline
    refused = site.client.get(f"/console/customers/{site.treated}?channel=store")
    assert refused.status_code == 403 and "text/html" in refused.content_type
    form = {"contact_id": "0" * 32, "channel": "store", "outcome": "presented"}
    assert site.post(f"/console/customers/{site.treated}/contacts", form).status_code == 403
    site.sign_in("max")
    assert site.client.get(f"/console/customers/{site.treated}").status_code == 403
    site.sign_in("vic")  # a viewer reads, and records nothing: no forms
    assert _forms(site.page(f"/console/customers/{site.treated}")) == []
    assert site.rows(contacts) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"outcome": "sold"}, "outcome"), ({"channel": "fax"}, "channel"),
    ({"contact_id": "x"}, "contact_id"), ({"refer_channel": "sms"}, "refer_channel"),
    ({"ticket_id": "abc"}, "ticket_id")])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
        site: Site, change: dict[str, str], field: str) -> None:
    site.sign_in("sam", "en")
    form = _forms(site.page(f"/console/customers/{site.treated}"))[0]
    before = site.rows(tasks)
    refused = site.post(f"/console/customers/{site.treated}/contacts",
                        {**form, "outcome": "handled", **change})
    assert refused.status_code == 400
    assert field in refused.get_data(as_text=True)
    assert site.rows(contacts) == [] and site.rows(tasks) == before


def test_search_by_id_or_exact_phone_opens_one_customer_never_a_list(site: Site) -> None:
    site.sign_in("sam", "en")
    assert site.client.get("/console/home").location == "/console/customers"
    assert "Customer id or phone" in site.page("/console/customers")
    by_id = site.client.get(f"/console/customers?q={site.treated}")
    assert by_id.location == f"/console/customers/{site.treated}"
    by_phone = site.client.get("/console/customers?q=%2B8613800000005")
    assert by_phone.location == "/console/customers/c05"
    shared = site.page("/console/customers?q=%2B8613800000001")  # c00 and c01
    assert 'id="several"' in shared and "c00" not in shared and "c01" not in shared
    assert 'id="not-found"' in site.page("/console/customers?q=13800000005")  # not as stored
    assert site.client.get("/console/customers?who=c05").status_code == 400


def test_the_desk_links_to_the_customers_page_on_the_tasks_channel(site: Site) -> None:
    site.sign_in("mia", "en")
    desk = site.page("/console/desk")
    link = re.search(r'href="(/console/customers/(c\d+)\?channel=outbound_call)"', desk)
    assert link is not None
    page = site.page(link.group(1).replace("&amp;", "&"))
    assert '<option value="outbound_call" selected>' in page
