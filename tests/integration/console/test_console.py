"""The console through Flask's test client on SQLite and PostgreSQL: sign-in and the session
cookie, CSRF, expiry, the role table of every page, decisions through the ticket service,
the draft editor, the desk and the languages. The browser test drives the same pages in
Chromium (tests/e2e/test_console_browser.py)."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from support.hostile import BOMB, BOMB_LINE
from werkzeug.test import TestResponse

from adapters.access.users import add_user, set_password
from adapters.db.schema import events, tasks
from adapters.http.app import create_app
from adapters.http.state import State
from adapters.tickets import service as tickets
from engine.config import Config

ROOT = Path(__file__).resolve().parents[3]
AT = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai: the monthly sweep
USERS = {"lena": ["campaign_lead"], "dong": ["director"], "pat": ["designer", "campaign_lead"],
         "vic": ["viewer"], "mia": ["manager:m01"], "crm": ["adapter"], "root": ["admin"]}
CUSTOMERS = [{"id": f"d{i:02d}", "name": f"Customer {i}", "joined_on": "2019-01-01",
              "arpu": 350 + i, "manager": f"m0{i % 3}", "contract_end": None}
             for i in range(12)]


def _silvers(today: dt.date) -> list[dict[str, Any]]:
    """Silver customers whose contracts end within renewal's 60 days of `today`: pat's
    renewal ticket needs somebody to contact, or it is closed at once instead of waiting."""
    return [{"id": f"s{i:02d}", "name": f"Silver {i}", "joined_on": "2019-01-01", "arpu": 100,
             "manager": None, "contract_end": (today + dt.timedelta(days=30)).isoformat()}
            for i in range(3)]
DRAFT = (ROOT / "rules" / "high_value_upsell.yaml").read_text().replace(
    "playbook: high_value_upsell", "playbook: hv_trial")


@dataclass
class Console:
    app: Flask
    state: State
    tokens: dict[str, str]
    swept: int  # high_value_upsell, planned by the system, two levels
    by_pat: int  # renewal, planned by pat

    def browser(self, name: str | None = None, **headers: str) -> Browser:
        browser = Browser(self.app.test_client(), headers)
        if name is not None:
            reply = browser.sign_in(token=self.tokens[name])
            assert reply.status_code == 303, reply.get_data(as_text=True)
        return browser

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        with self.state.engine.connect() as conn:
            return tickets.show(conn, ticket_id)


@dataclass
class Browser:
    client: FlaskClient
    headers: dict[str, str]

    def get(self, path: str) -> TestResponse:
        return self.client.get(path, headers=self.headers)

    def csrf(self) -> str:
        with self.client.session_transaction() as session:
            token = session.get("csrf_token")
        if token is None:  # no session yet: the sign-in page makes one
            page = self.get("/console/signin").get_data(as_text=True)
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert found
            return found.group(1)
        return str(token)

    def post(self, path: str, data: dict[str, str] | None = None,
             csrf: bool = True) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf()
        return self.client.post(path, data=form, headers=self.headers)

    def sign_in(self, **form: str) -> TestResponse:
        return self.post("/console/signin", form)

    def text(self, path: str) -> str:
        reply = self.get(path)
        assert reply.status_code == 200, (path, reply.status_code)
        return reply.get_data(as_text=True)


@pytest.fixture
def console(db_url: str, config: Config) -> Iterator[Console]:
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True})
    state: State = app.extensions["tend"]
    with state.engine.begin() as conn:
        now = dt.datetime.now(dt.UTC)
        tokens = {name: add_user(conn, name, roles, now) for name, roles in USERS.items()}
        set_password(conn, "lena", "correct horse battery")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {tokens['crm']}"}
    loaded = client.post("/customers", json=CUSTOMERS + _silvers(now.date()), headers=auth)
    assert loaded.status_code == 200, loaded.json
    with state.engine.begin() as conn:
        opened = tickets.sweep_all(conn, config, state.library, AT)
    swept = next(t["id"] for t in opened if t["playbook"] == "high_value_upsell")
    planned = client.post("/tickets", json={"playbook": "renewal"},
                          headers={"Authorization": f"Bearer {tokens['pat']}"})
    assert planned.status_code == 201, planned.json
    yield Console(app, state, tokens, swept, planned.json["id"])
    state.dispose()


def test_sign_in_sets_a_signed_httponly_lax_cookie_secure_behind_https(console: Console) -> None:
    browser = console.browser()
    reply = browser.sign_in(token=console.tokens["lena"])
    assert reply.status_code == 303 and reply.location == "/console/home"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert console.tokens["lena"] not in cookie
    behind_proxy = console.browser(**{"X-Forwarded-Proto": "https"})
    assert "Secure" in behind_proxy.sign_in(token=console.tokens["lena"]).headers["Set-Cookie"]
    assert browser.get("/console/home").location == "/console/"
    assert "lena" in browser.text("/console/")


def test_password_sign_in_and_failures_say_the_same(console: Console) -> None:
    ok = console.browser().sign_in(name="lena", password="correct horse battery")
    assert ok.status_code == 303
    for form in ({"name": "lena", "password": "wrong password!"},
                 {"name": "dong", "password": "correct horse battery"},  # has none
                 {"name": "nobody", "password": "correct horse battery"},
                 {"token": "not-a-token"}, {}):
        failed = console.browser().sign_in(**form)
        assert failed.status_code == 401
        assert "did not match any user" in failed.get_data(as_text=True)


def test_every_form_needs_the_session_csrf_token(console: Console) -> None:
    lena = console.browser("lena")
    path = f"/console/tickets/{console.swept}/approve"
    assert lena.post(path, {"comment": "x"}, csrf=False).status_code == 403
    forged = lena.post(path, {"comment": "x", "csrf_token": "guessed"}, csrf=False)
    assert forged.status_code == 403
    assert console.ticket(console.swept)["approvals"] == []
    assert console.browser().post("/console/signin", {"token": console.tokens["lena"]},
                                  csrf=False).status_code == 403


def test_sessions_expire_and_sign_out_ends_them(console: Console) -> None:
    lena = console.browser("lena")
    with lena.client.session_transaction() as session:
        session["since"] = int(time.time()) - 9 * 3600  # past the 8-hour lifetime
    expired = lena.get("/console/")
    assert expired.status_code == 302 and expired.location.startswith("/console/signin")
    assert "expired" in lena.text(expired.location)
    dong = console.browser("dong")
    assert dong.post("/console/signout").status_code == 303
    assert dong.get("/console/").status_code == 302


def test_an_unknown_user_in_a_session_and_a_foreign_next_are_refused(console: Console) -> None:
    browser = console.browser()
    with browser.client.session_transaction() as session:
        session.update(user="ghost", since=int(time.time()))
    assert browser.get("/console/").status_code == 302
    reply = browser.post("/console/signin", {"token": console.tokens["vic"],
                                             "next": "//evil.example/console"})
    assert reply.location == "/console/home"


PAGES: list[tuple[str, str, set[str]]] = [  # method, path, who gets in (others: 403)
    ("GET", "/console/", {"lena", "dong", "pat", "vic", "root"}),
    ("GET", "/console/tickets/{swept}", {"lena", "dong", "pat", "vic", "root"}),
    ("GET", "/console/tickets/{swept}/report", {"lena", "dong", "pat", "vic", "root"}),
    ("GET", "/console/playbooks", {"lena", "dong", "pat", "vic", "root"}),
    ("GET", "/console/playbooks/welcome", {"lena", "dong", "pat", "vic", "root"}),
    ("POST", "/console/playbooks/welcome/promote", {"pat", "root"}),
    ("GET", "/console/explain?customer=d01", {"lena", "dong", "pat", "vic", "root"}),
    ("GET", "/console/program", {"lena", "dong", "pat", "vic", "root"}),
    ("GET", "/console/draft", {"pat", "root"}),
    ("POST", "/console/draft", {"pat", "root"}),
    ("GET", "/console/desk", {"mia", "root"}),
    ("POST", "/console/desk/customers/d01/call", {"mia", "root"}),
    ("GET", "/console/customers?q=d01", {"vic", "root", "mia"}),
    ("GET", "/console/customers/d01", {"vic", "root", "mia"}),  # mia manages d01
    ("GET", "/console/customers/d01/compact", {"vic", "root", "mia"}),
    ("POST", "/console/customers/d01/contacts", {"mia"}),
    ("POST", "/console/tickets/999/approve", {"lena", "dong", "pat"}),
    ("POST", "/console/tickets/999/reject", {"lena", "dong", "pat"}),
    ("POST", "/console/tickets/999/cancel", {"root"}),
    ("GET", "/console/supervision", {"root"}),  # and supervisors (test_console_supervision)
    ("POST", "/console/supervision/reassign", {"root"}),
    ("GET", "/console/home", {"lena", "dong", "pat", "vic", "root", "mia"}),
    ("POST", "/console/signout", set(USERS)),
    ("POST", "/console/lang", set(USERS)),
    ("GET", "/console/signin", set(USERS)),
    ("POST", "/console/signin", set(USERS)),
    ("GET", "/console/assets/console.css", set(USERS)),
]


def test_every_page_checks_the_api_roles(console: Console) -> None:
    covered = {re.sub(r"/(999|welcome|d01|\{swept\})", "/<>", path.split("?")[0])
               for _, path, _ in PAGES}
    rules = {re.sub(r"<[^>]+>", "<>", rule.rule) for rule in console.app.url_map.iter_rules()
             if rule.endpoint.startswith("console.")}
    assert rules == covered - {"/console/assets/console.css"} | {"/console/assets/<>"}
    for method, path, allowed in PAGES:
        for name in USERS:
            browser = console.browser(name)
            url = path.format(swept=console.swept)
            reply = browser.get(url) if method == "GET" else browser.post(url)
            reply.close()  # the stylesheet is a file
            if name in allowed:
                assert reply.status_code != 403, (method, path, name)
            else:
                assert reply.status_code == 403, (method, path, name, reply.status_code)
                assert "text/html" in reply.content_type


def test_approval_levels_through_the_console(console: Console) -> None:
    page = f"/console/tickets/{console.swept}"
    lena, dong = console.browser("lena"), console.browser("dong")
    inbox = lena.text("/console/")
    assert f'href="{page}"' in inbox.split('id="awaiting"')[1].split("</table>")[0]
    assert "monthly on day 1 at 09:00" in inbox  # the card's trigger, worded as the library's
    assert 'id="approve"' not in dong.text(page)  # level 1 is not the director's
    shown = lena.text(page)
    assert 'id="approve"' in shown and "manager_call" in shown and "d01" in shown
    assert 'id="approval-card"' in shown and "Waiting for level 1 (campaign lead)." in shown
    # swept months before the page's now: rehearsed again for the decision
    assert 'id="since-planning"' in shown and "older than allowed" in shown
    assert 'id="audience-since"' in shown and "in the treatment group." in shown  # swept again
    assert 'id="since-planning"' not in console.browser("vic").text(page)  # no decision
    assert lena.post(page + "/approve", {"comment": "checked"}).status_code == 303
    after = lena.text(page)  # two levels: the first approval is not "Approved."
    assert "Approved." not in after and "now waits for level 2 (marketing director)" in after
    assert "Waiting for level 2 (marketing director)." in after
    decisions = lena.text("/console/").split('id="dec-h"')[1].split("</section>")[0]
    assert f"#{console.swept} high_value_upsell" in decisions and "level 1 by lena" in decisions
    assert "<q>checked</q>" in decisions
    assert 'id="approve"' not in lena.text(page)
    assert dong.post(page + "/approve", {"comment": "ok"}).status_code == 303
    ticket = console.ticket(console.swept)
    assert ticket["state"] == "executing"
    assert [(a["by"], a["comment"]) for a in ticket["approvals"]] == \
        [("lena", "checked"), ("dong", "ok")]
    assert 'id="tasks"' in lena.text(page)


def test_a_double_click_on_approve_is_one_approval_said_in_the_page_language(
        console: Console) -> None:
    page = f"/console/tickets/{console.swept}"
    lena = console.browser("lena", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    shown = lena.text(page)
    form = shown.split('id="decide"')[0].rsplit("<form", 1)[1] + shown.split('id="decide"')[1]
    assert 'class="decide busy-once"' in shown and 'data-busy="处理中…"' in shown
    assert 'name="level" value="1"' in form and 'src="/console/assets/busy.js"' in shown
    script = console.browser("lena").get("/console/assets/busy.js")
    assert "form.busy-once" in script.get_data(as_text=True)
    assert "b.disabled = true" in script.get_data(as_text=True)
    script.close()
    title = shown.split("<title>")[1].split("</title>")[0]
    assert title.startswith(f"#{console.swept} ") and "function" not in title
    assert shown.count("busy.js") == 1  # the script once, in the head, not the title
    power = console.ticket(console.swept)["power"]
    assert 'id="power"' in shown and "可检测效果（80% 检验功效）" in shown
    assert ("样本不足" in shown) == power["under_powered"]
    assert "审批要点" in shown and "已重新演练" in shown and "等待第 1 级" in shown
    for _ in range(2):
        assert lena.post(page + "/approve", {"comment": "ok", "level": "1"}).status_code == 303
    assert "您已批准过。" in lena.text(page)
    assert [a["by"] for a in console.ticket(console.swept)["approvals"]] == ["lena"]
    api = console.app.test_client()
    again = api.post(f"/tickets/{console.swept}/approve", json={"level": 1},
                     headers={"Authorization": f"Bearer {console.tokens['lena']}"})
    assert again.status_code == 200 and again.json["repeat"] is True
    assert again.json["id"] == console.swept and again.json["next_level"] == 2


def test_the_planner_sees_no_button_and_a_forged_post_is_refused(console: Console) -> None:
    pat = console.browser("pat")
    page = f"/console/tickets/{console.by_pat}"

    def awaiting(who: Browser) -> str:
        return who.text("/console/").split('id="awaiting-h"')[1].split("</section>")[0]

    assert f'href="{page}"' not in awaiting(pat)  # his own ticket does not await him
    assert f'href="{page}"' in awaiting(console.browser("lena"))
    shown = pat.text(page)
    assert 'id="approve"' not in shown and 'id="no-decision"' in shown
    refused = pat.post(page + "/approve", {"comment": "mine"})
    assert refused.status_code == 403
    assert "planned ticket" in refused.get_data(as_text=True)
    assert console.ticket(console.by_pat)["approvals"] == []


def test_reject_and_cancel_need_a_comment(console: Console) -> None:
    page = f"/console/tickets/{console.by_pat}"
    lena, root = console.browser("lena"), console.browser("root")
    assert lena.post(page + "/reject", {"comment": " "}).status_code == 303
    assert "needs a comment" in lena.text(page)
    assert console.ticket(console.by_pat)["state"] == "planned"
    assert 'id="cancel"' in root.text(page) and 'id="cancel"' not in lena.text(page)
    root.post(page + "/cancel", {"comment": "wrong season"})
    assert console.ticket(console.by_pat)["state"] == "cancelled"
    assert lena.post(page + "/reject", {"comment": "late"}).status_code == 409


def test_inbox_filters_and_pages(console: Console) -> None:
    vic = console.browser("vic")
    listed = vic.text("/console/?state=cancelled")
    table = listed.split('id="tickets"')[1]
    assert "renewal" in table and "high_value_upsell" not in table  # the swept one superseded
    diamond = vic.text("/console/?tier=diamond").split('id="tickets"')[1]
    assert "high_value_upsell" in diamond and "renewal" not in diamond
    assert vic.get("/console/?state=nope").status_code == 400


def test_draft_errors_at_their_line_then_a_preview(console: Console) -> None:
    pat = console.browser("pat")
    broken = DRAFT.replace("[gold, diamond]", "[gold, platinum]")
    line = 1 + broken.splitlines().index("    - tier: {in: [gold, platinum]}")
    page = pat.post("/console/draft", {"yaml": broken, "at": "2026-06-01"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="problems"' in text
    assert re.search(rf'<li id="line-{line}" class="bad">.*?platinum', text, re.DOTALL)
    fixed = pat.post("/console/draft", {"yaml": DRAFT, "at": "2026-06-01"})
    text = fixed.get_data(as_text=True)
    assert 'id="preview"' in text and 'id="problems"' not in text
    assert re.search(r'<span class="n">12</span><span class="l">matched', text)
    bad_date = pat.post("/console/draft", {"yaml": DRAFT, "at": "June"})
    assert "at: expected YYYY-MM-DD" in bad_date.get_data(as_text=True)  # the form's field


def test_an_alias_bomb_in_a_draft_is_shown_at_its_line(console: Console) -> None:
    """618 bytes of nested aliases once held a worker for a minute and ended in a 500."""
    page = console.browser("pat").post("/console/draft", {"yaml": BOMB, "at": "2026-06-01"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="problems"' in text
    assert re.search(rf'<li id="line-{BOMB_LINE}" class="bad">.*?more than 10000 values', text,
                     re.DOTALL)


def test_a_draft_whose_retries_the_caps_never_allow_is_previewed_with_a_warning(
        console: Console) -> None:
    pat = console.browser("pat", **{"Accept-Language": "zh-CN"})
    eager = DRAFT.replace("times: 2, after: 2d", "times: 5, after: 1d")
    line = 1 + eager.splitlines().index("    retry: {on: [no_answer, failed], times: 5, after: 1d}")
    text = pat.post("/console/draft", {"yaml": eager, "at": "2026-06-01"}).get_data(as_text=True)
    assert 'id="preview"' in text and 'id="warnings"' in text and "1 个警告" in text
    assert f"第 {line} 行" in text or f"line {line}" in text
    assert "最多产生 6 次 <code>outbound_call</code> 接触" in text  # the warning in Chinese
    assert 'id="warnings"' not in pat.post("/console/draft", {"yaml": DRAFT, "at": "2026-06-01"}
                                          ).get_data(as_text=True)


def test_library_diff_and_explain(console: Console) -> None:
    vic = console.browser("vic")
    listed = vic.text("/console/playbooks")
    assert "high_value_upsell" in listed
    assert "when the customer contacts us on hotline, store, online" in listed  # retention_inbound
    assert "v2" in vic.text("/console/playbooks/high_value_upsell")
    assert vic.get("/console/playbooks/high_value_upsell?a=1&b=7").status_code == 404
    assert vic.get("/console/playbooks/nope").status_code == 404
    explained = vic.text("/console/explain?customer=d01&playbook=high_value_upsell&at=2026-06-01")
    assert 'id="explained"' in explained and "tier in [gold, diamond]" in explained
    # in words, with the exclusion said negated (a tick when it did not apply)
    assert "tier is one of gold, diamond" in explained and 'id="legend"' in explained
    assert "not tagged any of do_not_market, complaint_open" in explained
    zh = console.browser("vic", **{"Accept-Language": "zh-CN"})
    assert "未带有任一标签 do_not_market、complaint_open" in zh.text(
        "/console/explain?customer=d01&playbook=high_value_upsell&at=2026-06-01")
    assert "no customer" in vic.text("/console/explain?customer=zz")


def _call(mia: Browser, customer: str, task_id: int, status: str) -> TestResponse:
    """A call from the desk: the customer's form as drawn, with a result on one task."""
    desk = mia.text("/console/desk")
    card = desk[desk.index(f'id="customer-{customer}"'):]
    hidden = dict(re.findall(r'type="hidden" name="(call_id|channel)" value="([^"]*)"', card))
    return mia.post(f"/console/desk/customers/{customer}/call",
                    {**hidden, f"task:{task_id}": status, "note": "yes"})


def test_the_desk_shows_my_customers_tasks_and_records_results(console: Console) -> None:
    page = f"/console/tickets/{console.swept}"
    console.browser("lena").post(page + "/approve", {"comment": "go"})
    console.browser("dong").post(page + "/approve", {"comment": "go"})
    mia = console.browser("mia")
    desk = mia.text("/console/desk")
    shown = set(re.findall(r'<li class="task" id="task-(\d+)"', desk))
    with console.state.engine.connect() as conn:
        found = conn.execute(sa.select(tasks.c.id, tasks.c.route, tasks.c.customer_id)).all()
    routes = {row.id: row.route for row in found}
    owner = {row.id: row.customer_id for row in found}
    assert shown and {routes[int(i)] for i in shown} == {"manager:m01"}
    theirs = next(i for i, r in routes.items() if r == "manager:m00")
    refused = mia.post(f"/console/desk/customers/{owner[theirs]}/call",
                       {"call_id": "a" * 32, "channel": "outbound_call",
                        f"task:{theirs}": "accepted"})
    assert refused.status_code == 403
    mine = int(sorted(shown)[0])
    assert _call(mia, owner[mine], mine, "bogus").status_code == 400
    done = _call(mia, owner[mine], mine, "accepted")
    assert done.status_code == 303
    with console.state.engine.connect() as conn:
        row = conn.execute(sa.select(tasks).where(tasks.c.id == mine)).one()
        stored = conn.scalar(sa.select(sa.func.count()).select_from(events).where(
            events.c.id == f"task:{mine}:accepted"))
    assert (row.state, row.detail["note"], stored) == ("accepted", "yes", 1)
    after = mia.text("/console/desk")
    assert f'id="task-{mine}"' not in after and "Result recorded" in after


def test_the_desk_hides_and_refuses_tasks_no_call_can_change(console: Console) -> None:
    """A task the contact policy suppressed is no to-do: it is not listed, and a result on
    it is refused (409, in the reader's language) with nothing stored."""
    page = f"/console/tickets/{console.swept}"
    console.browser("lena").post(page + "/approve", {"comment": "go"})
    console.browser("dong").post(page + "/approve", {"comment": "go"})
    mia = console.browser("mia", **{"Accept-Language": "zh-CN"})
    mine = sorted(int(i) for i in re.findall(r'<li class="task" id="task-(\d+)"',
                                             mia.text("/console/desk")))
    assert len(mine) >= 3
    with console.state.engine.connect() as conn:
        owner = dict(conn.execute(sa.select(tasks.c.id, tasks.c.customer_id)).all())
    desk_before = mia.text("/console/desk")  # drawn before someone else's change
    stopped = dict(zip(mine, ("suppressed", "cancelled", "dead"), strict=False))
    reason = {"policy": "suppress", "reason": "arbitration", "note": "churn_risk wins"}
    with console.state.engine.begin() as conn:
        for task_id, state in stopped.items():
            conn.execute(tasks.update().where(tasks.c.id == task_id)
                         .values(state=state, detail=reason))
        before = conn.execute(sa.select(tasks).where(tasks.c.id == mine[0])).one()
    shown = set(re.findall(r'<li class="task" id="task-(\d+)"', mia.text("/console/desk")))
    assert shown and not shown & {str(i) for i in stopped}
    card = desk_before[desk_before.index(f'id="customer-{owner[mine[0]]}"'):]
    hidden = dict(re.findall(r'type="hidden" name="(call_id|channel)" value="([^"]*)"', card))
    refused = mia.post(f"/console/desk/customers/{owner[mine[0]]}/call",
                       {**hidden, f"task:{mine[0]}": "accepted"})
    assert refused.status_code == 409
    assert "该任务处于“暂不触达”状态，不能记录结果。" in refused.get_data(as_text=True)
    with console.state.engine.connect() as conn:
        after = conn.execute(sa.select(tasks).where(tasks.c.id == mine[0])).one()
        stored = conn.scalar(sa.select(sa.func.count()).select_from(events).where(
            events.c.id == f"task:{mine[0]}:accepted"))
    assert after == before and stored == 0


def test_language_from_the_browser_or_the_switch(console: Console) -> None:
    zh = console.browser("lena", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "等待您决定" in zh.text("/console/")
    zh.post("/console/lang", {"lang": "en", "next": "/console/"})
    assert "Awaiting your decision" in zh.text("/console/")
    assert "登录" in console.browser(**{"Accept-Language": "zh"}).text("/console/signin")


def test_a_closed_ticket_shows_its_results_and_links_its_report(console: Console,
                                                                config: Config) -> None:
    page = f"/console/tickets/{console.swept}"
    console.browser("lena").post(page + "/approve", {"comment": "go"})
    console.browser("dong").post(page + "/approve", {"comment": "go"})
    vic = console.browser("vic")
    assert 'id="report"' not in vic.text(page)  # executing: no results yet
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    with console.state.engine.begin() as conn:
        assert tickets.advance(conn, config, console.state.library, later) == [console.swept]
    shown = vic.text(page)
    assert 'id="results"' in shown and 'id="report"' in shown
    results = shown[shown.index('id="results"'):]
    # the verdict first, then the numbers, with the report's charts inline
    assert results.index('id="reading"') < results.index('<table class="list">')
    assert "Too small to tell" in results  # no goal event in the fixture: nobody converted
    assert re.search(r'<img class="chart" id="chart-uplift" src="data:image/png;base64,', results)
    zh = console.browser("vic", **{"Accept-Language": "zh-CN"}).text(page)
    assert "样本太小，无法判断" in zh
    report = vic.get(page + "/report")
    assert report.status_code == 200 and report.content_type.startswith("text/html")
    assert "high_value_upsell" in report.get_data(as_text=True)
    assert f'<a href="{page}" id="back">' in report.get_data(as_text=True)  # and back
    library_page = vic.text("/console/playbooks/high_value_upsell")
    assert "high_value_upsell" in library_page
    # the version's pooled readout: one evaluated ticket, read every day
    assert 'id="readout-v2"' in library_page and "Pooled readout" in library_page
    assert "evaluated tickets, pooled ticket by ticket" in library_page
    zh = console.browser("vic", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "合并读数" in zh.text("/console/playbooks/high_value_upsell")


def test_inbox_pages_keep_their_filters(console: Console,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.http.console import inbox

    monkeypatch.setattr(inbox, "PAGE", 2)  # empty sweeps are closed: three tickets wait
    vic = console.browser("vic")
    seen: list[str] = []
    path = "/console/?state=planned"
    while path:
        page = vic.text(path)
        table = page.split('id="tickets"')[1].split("</table>")[0]
        seen += re.findall(r'href="/console/tickets/(\d+)"', table)
        found = re.search(r'<p class="pager"><a href="([^"]+)"', page)
        path = found.group(1).replace("&amp;", "&") if found else ""
        assert not path or "state=planned" in path
    with console.state.engine.connect() as conn:
        planned, _ = tickets.listing(conn, state="planned", now=dt.datetime.now(dt.UTC),
                                     cursor=None, limit=100)
    assert seen == [str(t["id"]) for t in planned] and len(seen) > 2


def test_a_diff_between_two_stored_versions(console: Console) -> None:
    from adapters.db.schema import playbook_versions

    with console.state.engine.begin() as conn:
        text = conn.scalar(sa.select(playbook_versions.c.text).where(
            playbook_versions.c.playbook == "high_value_upsell"))
        conn.execute(playbook_versions.insert().values(
            playbook="high_value_upsell", version=3, hash="0" * 64,
            text=text.replace("holdout: 0.05", "holdout: 0.10").replace(
                "tier: {in: [gold, diamond]}", "tier: {in: [gold]}").replace(
                "version: 2", "version: 3"),
            loaded_at=dt.datetime.now(dt.UTC)))
    page = console.browser("vic").text("/console/playbooks/high_value_upsell?a=2&b=3")
    # side by side: the old line facing the new one, no unified-diff markers
    assert re.search(r'<tr class="changed">.*?<code>holdout: 0.05</code>.*?'
                     r'<code>holdout: 0.10</code></td></tr>', page)
    assert "@@" not in page and '<span class="del">' not in page
    # the audience effect: both versions swept at the same instant; diamond left out narrows it
    counts = [int(n.replace(",", "")) for n in re.findall(r"v[23] selected ([\d,]+)", page)]
    assert len(counts) == 2 and counts[1] < counts[0], counts
    zh = console.browser("vic", **{"Accept-Language": "zh-CN"})
    assert "版本 2 选中" in zh.text("/console/playbooks/high_value_upsell?a=2&b=3")


def test_a_notice_link_opened_in_a_browser_shows_the_console_page(console: Console) -> None:
    client = console.app.test_client()
    path = f"/tickets/{console.swept}"
    browser = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 302
    assert browser.location == f"/console/tickets/{console.swept}"
    assert client.get(path, headers={"Accept": "*/*"}).status_code == 401  # curl: the API
    token = {"Authorization": f"Bearer {console.tokens['vic']}", "Accept": "text/html"}
    assert client.get(path, headers=token).json["id"] == console.swept
