"""Ticket results and reports on both databases: the closed ticket's uplift, funnel and cost,
the HTML page (HTTP, data: URIs) and files (CLI, PNGs), interim and weekly cohort results."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from support.cli import run
from support.evaluated import AT, run_ticket, seed_customers, standing_ticket
from support.http_api import Api

from adapters.db.engines import make_engine
from adapters.db.schema import contacts, entries, events, tasks, tickets
from adapters.evaluation.results import results
from adapters.tickets import report
from adapters.tickets.report_text import render
from adapters.tickets.report_words import Words
from engine.config import Config
from engine.playbooks.library import Library

PNG = b"\x89PNG\r\n\x1a\n"
LATER = AT + dt.timedelta(days=41)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    seed_customers(engine, 200)
    yield engine
    engine.dispose()


def test_a_closed_ticket_stores_uplift_funnel_cost_and_timeline(
        engine: Engine, config: Config, library: Library) -> None:
    ticket_id = run_ticket(engine, config, library, treated_share=0.3, control_share=0.1)
    with engine.connect() as conn:
        found = conn.execute(sa.select(tickets.c.state, tickets.c.results)
                             .where(tickets.c.id == ticket_id)).one()
        sent = conn.execute(sa.select(tasks.c.channel, sa.func.count()).where(
            tasks.c.ticket_id == ticket_id, tasks.c.state != "pending")
            .group_by(tasks.c.channel)).all()
    assert found.state == "closed"
    goal = found.results["goal"]
    t, c = goal["treatment"], goal["control"]
    u = goal["uplift"]
    assert (u["treatment"], u["control"]) == (t["members"], c["members"])
    assert u["treatment_conversions"] == round(t["members"] * 0.3)
    assert u["control_conversions"] == round(c["members"] * 0.1)
    assert u["absolute"] == pytest.approx(t["rate"] - c["rate"])
    assert u["low"] < u["absolute"] < u["high"] and u["verdict"] in (
        "significant", "not significant", "too small to tell")
    timeline = found.results["timeline"]
    assert timeline[0]["treatment"] == 0 and len(timeline) == 31  # days 0..30 of the window
    assert timeline[-1]["treatment"] == t["conversions"]
    assert timeline[-1]["control_rate"] == pytest.approx(c["rate"])
    steps = {f["step"]: f for f in found.results["funnel"]}
    assert steps["sms"]["channel"] == "sms" and steps["call"]["channel"] == "outbound_call"
    assert steps["call"]["accepted"] >= steps["call"]["converted"] > 0
    assert steps["sms"]["tasks"] > steps["sms"]["sent"] >= steps["sms"]["delivered"] > 0
    prices = {"sms": 0.05, "outbound_call": 2.5}
    cost = found.results["cost"]
    assert cost["total"] == pytest.approx(sum(prices[ch] * n for ch, n in sent))
    assert cost["per_conversion"] == pytest.approx(cost["total"] / t["conversions"])


def test_cli_report_writes_the_page_and_its_charts(engine: Engine, config: Config,
                                                   library: Library, db_url: str,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ticket_id = run_ticket(engine, config, library)
    monkeypatch.setenv("TEND_DATABASE_URL", db_url)
    out = tmp_path / "out"
    result = run(CliRunner(), "report", str(ticket_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "uplift" in result.stdout and "pts" in result.stdout
    page = (out / f"ticket-{ticket_id}.html").read_text()
    for chart in ("uplift", "timeline", "funnel"):
        name = f"ticket-{ticket_id}-{chart}.png"
        assert (out / name).read_bytes().startswith(PNG)
        assert f'src="{name}"' in page
    assert "Conversions over time" in page and "Funnel per step and channel" in page
    chinese = run(CliRunner(), "report", str(ticket_id), "--out", str(tmp_path / "zh"),
                  "--lang", "zh")
    assert chinese.exit_code == 0, chinese.output
    page = (tmp_path / "zh" / f"ticket-{ticket_id}.html").read_text()
    assert '<html lang="zh-CN">' in page and "转化随时间变化" in page


def test_http_report_is_one_page_with_embedded_charts(api: Api, config: Config) -> None:
    st = api.app.extensions["tend"]
    seed_customers(st.engine, 120)
    ticket_id = run_ticket(st.engine, config, st.library)
    reply = api.call("GET", f"/tickets/{ticket_id}/report", "viewer")
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    page = reply.get_data(as_text=True)
    assert page.count('src="data:image/png;base64,') == 3
    assert f"Ticket {ticket_id}: Win back recently churned" in page
    as_json = api.call("GET", f"/tickets/{ticket_id}/report?format=json", "viewer")
    assert as_json.json["results"]["goal"]["uplift"]["verdict"]
    shown = as_json.json["results"]["goal"]["uplift"]
    assert shown["absolute_pts"] == pytest.approx(100 * shown["absolute"])  # named in points
    assert " pts" in reply.get_data(as_text=True)
    chinese = api.client.get(f"/tickets/{ticket_id}/report", headers={
        "Authorization": f"Bearer {api.tokens['viewer']}", "Accept-Language": "zh-CN"})
    text = chinese.get_data(as_text=True)
    assert f"工单 {ticket_id}：挽回近期流失的高价值客户" in text and "个百分点" in text
    missing = api.call("GET", "/tickets/999/report", "viewer")
    assert missing.status_code == 404 and missing.is_json


def test_a_running_ticket_reports_interim_results(engine: Engine, config: Config,
                                                  library: Library) -> None:
    ticket_id = run_ticket(engine, config, library, close=False)
    with engine.connect() as conn:
        ticket = report.gather(conn, config, library, ticket_id, AT + dt.timedelta(days=5))
    assert ticket["state"] == "executing" and ticket["results"]["interim"] is True
    goal = ticket["results"]["goal"]
    assert 0 < goal["treatment"]["conversions"] < round(goal["treatment"]["members"] * 0.3)
    assert "Interim results" in report.page(ticket)


def test_a_standing_ticket_is_judged_in_weekly_cohorts(engine: Engine, config: Config,
                                                       library: Library) -> None:
    """Entries on Wednesday 18 and Monday 23 November (Shanghai weeks 47 and 48); each entry's
    window (30 days) runs from its own entry."""
    playbook = library.playbooks["zero_usage_alert"]
    week47, week48 = (dt.datetime(2026, 11, 18, 2, tzinfo=dt.UTC),
                      dt.datetime(2026, 11, 23, 2, tzinfo=dt.UTC))
    members = [("c0000", "treatment", week47), ("c0001", "treatment", week47),
               ("c0002", "control", week47), ("c0003", "treatment", week48),
               ("c0004", "control", week48)]
    goal_at = {"c0000": week47 + dt.timedelta(days=29),   # inside its window
               "c0001": week47 + dt.timedelta(days=31),   # too late for its window
               "c0004": week48 + dt.timedelta(days=2)}
    with engine.begin() as conn:
        standing_ticket(conn, playbook, 77, week47)
        conn.execute(entries.insert(), [
            {"playbook": playbook.id, "customer_id": cid, "ticket_id": 77, "grp": grp,
             "entered_at": at} for cid, grp, at in members])
        conn.execute(events.insert(), [
            {"id": f"g-{cid}", "customer_id": cid, "type": "contract_renewed", "at": at,
             "data": {"months": 12}, "known_customer": True, "received_at": at}
            for cid, at in goal_at.items()])
    now = week47 + dt.timedelta(days=32)
    with engine.connect() as conn:
        found = results(conn, config, playbook, 77, now, standing=True)
        ticket = report.gather(conn, config, library, 77, now)
    cohorts = {c["week"]: c for c in found["cohorts"]}
    assert sorted(cohorts) == ["2026-W47", "2026-W48"]
    w47, w48 = cohorts["2026-W47"], cohorts["2026-W48"]
    assert w47["complete"] and not w48["complete"]
    assert w47["treatment"] == {"members": 2, "conversions": 1, "rate": 0.5}
    assert w47["control"]["conversions"] == 0 and w48["control"]["conversions"] == 1
    assert w48["uplift"]["verdict"] == "too small to tell"
    assert found["goal"]["treatment"]["conversions"] == 1
    assert ticket["results"]["cohorts"] == found["cohorts"]
    assert "Weekly cohorts" in report.page(ticket)


def test_a_playbook_without_a_goal_is_judged_by_its_funnel(engine: Engine, config: Config,
                                                          library: Library) -> None:
    ticket_id = run_ticket(engine, config, library)
    no_goal = dataclasses.replace(library.playbooks["winback"], goal=None)
    with engine.connect() as conn:
        found = results(conn, config, no_goal, ticket_id, LATER)
        ticket = report.gather(conn, config, library, ticket_id, LATER)
    assert found["goal"] is None and found["timeline"] == []
    assert found["cost"]["total"] > 0 and found["cost"]["per_conversion"] is None
    page = report.page({**ticket, "results": found})
    assert "has no goal" in page and page.count("data:image/png") == 1


def test_results_stored_before_uplift_intervals_are_read_again(engine: Engine, config: Config,
                                                               library: Library) -> None:
    ticket_id = run_ticket(engine, config, library)
    old = {"goal": {"event": "plan_reactivated", "uplift": 0.2,
                    "treatment": {"members": 1, "conversions": 1, "rate": 1.0},
                    "control": {"members": 1, "conversions": 0, "rate": 0.0}},
           "funnel": {"sms": {"pending": 3}}}
    with engine.begin() as conn:
        conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(results=old))
    with engine.connect() as conn:
        ticket = report.gather(conn, config, library, ticket_id, LATER)
    assert ticket["results"]["goal"]["uplift"]["verdict"]
    assert "interim" not in ticket["results"]
    assert "Funnel per step and channel" in report.page(ticket)


def test_the_report_counts_the_offers_of_the_contacts_naming_the_ticket(
        engine: Engine, config: Config, library: Library) -> None:
    """winback_credit (cost 50): c0001 presented then handled in the store, c0002 declined on
    a call. Not this ticket's offers: a contact without an offer, another ticket's contact."""
    ticket_id = run_ticket(engine, config, library)
    recorded = [("c0001", "store", "winback_credit", "presented", ticket_id),
                ("c0001", "store", "winback_credit", "handled", ticket_id),
                ("c0002", "outbound_call", "winback_credit", "declined", ticket_id),
                ("c0003", "hotline", None, "presented", ticket_id),
                ("c0004", "store", "winback_credit", "handled", ticket_id + 1)]
    with engine.begin() as conn:
        conn.execute(contacts.insert(), [
            {"id": f"k{i}", "customer_id": cid, "channel": channel, "offer": offer,
             "ticket_id": tid, "outcome": outcome, "by": "clerk", "at": LATER,
             "recorded_at": LATER}
            for i, (cid, channel, offer, outcome, tid) in enumerate(recorded)])
    with engine.connect() as conn:
        ticket = report.gather(conn, config, library, ticket_id, LATER)
    offers = ticket["offers"]
    assert [(r["offer"], r["channel"]) for r in offers["rows"]] == [
        ("winback_credit", "all"), ("winback_credit", "outbound_call"),
        ("winback_credit", "store")]
    credit = offers["rows"][0]
    assert credit["customers"] == {"presented": 2, "interested": 0, "declined": 1,
                                   "handled": 1, "referred": 0}
    assert credit["rates"]["handled"] == 0.5 and credit["contacts"]["all"] == 3
    assert credit["cost"] == 50
    lines = render(ticket).splitlines()
    start = lines.index("  offers (contacts naming this ticket):")
    assert lines[start + 2].split() == ["winback_credit", "2", "0", "(0.0%)", "1", "(50.0%)",
                                        "1", "(50.0%)", "0", "(0.0%)", "3", "50.00"]
    assert lines[start + 3].split()[:2] == ["outbound_call", "1"]
    page = report.page(ticket)
    assert '<section id="offers"><h2>Offers</h2>' in page
    assert "<td>1 (50.0%)</td>" in page and "<td>50.00</td>" in page


def test_a_report_without_offer_contacts_has_no_offers_section(
        engine: Engine, config: Config, library: Library) -> None:
    ticket_id = run_ticket(engine, config, library)
    with engine.connect() as conn:
        ticket = report.gather(conn, config, library, ticket_id, LATER)
    assert ticket["offers"]["rows"] == []
    assert "offers (" not in render(ticket) and 'id="offers"' not in report.page(ticket)


def _chinese() -> Words:
    from babel.support import Translations

    from adapters.http.console.i18n import TRANSLATIONS
    return Words("zh", Translations.load(str(TRANSLATIONS), ["zh"]))


def test_the_report_and_its_charts_read_in_chinese(engine: Engine, config: Config,
                                                    library: Library) -> None:
    """A Chinese reader gets the whole report in Chinese, with no English sentence of the
    catalog, its charts' titles, axes and legends in Chinese (a CJK font is installed), and
    the text the CLI prints too."""
    from support.untranslated import untranslated

    from adapters.tickets import report_charts
    ticket_id = run_ticket(engine, config, library, treated_share=0.3, control_share=0.1)
    with engine.begin() as conn:
        conn.execute(contacts.insert(), [{
            "id": "k1", "customer_id": "c0001", "channel": "store", "offer": "winback_credit",
            "ticket_id": ticket_id, "outcome": "handled", "by": "clerk", "at": LATER,
            "recorded_at": LATER}])
    with engine.connect() as conn:
        ticket = report.gather(conn, config, library, ticket_id, LATER)
    page = report.page(ticket, "/console/tickets/1", _chinese())
    assert '<html lang="zh-CN">' in page and "← 返回工单" in page
    assert "结论：<strong>显著</strong>" in page and "个百分点" in page
    assert "各步骤与渠道的漏斗" in page and "决策记录" in page and "全部渠道" in page
    assert untranslated(page) == []
    assert page.count("data:image/png") == 3  # uplift, timeline, funnel
    text = render(ticket, _chinese())  # what `tend report --lang zh` prints
    assert "审计记录：" in text and "政策 / 渠道" in text and "个百分点" in text
    assert set(untranslated(text)) <= {"store", "all"}  # a channel's code, the total row's

    texts = _chart_texts(report_charts._uplift_chart, ticket["results"]["goal"], _chinese())
    assert {"转化率", "实验组", "对照组", "提升幅度（百分点）"} <= texts
    texts = _chart_texts(report_charts._timeline_chart, ticket["results"]["timeline"],
                         _chinese())
    assert {"转化随时间变化", "入组后天数", "实验组"} <= texts
    english = _chart_texts(report_charts._uplift_chart, ticket["results"]["goal"],
                           report.ENGLISH)
    assert {"Conversion rate", "treatment", "uplift, percentage points"} <= english


def test_without_a_cjk_font_chinese_charts_keep_english_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No boxes (tofu) where a machine has no Chinese font: the words fall back to English."""
    from adapters.tickets import report_charts
    if report_charts.cjk_font() is None:
        pytest.skip("no CJK font: scripts/ensure-fonts.sh installs fonts-noto-cjk")
    assert report_charts.chart_words(_chinese()).language == "zh"
    monkeypatch.setattr(report_charts, "cjk_font", lambda: None)
    assert report_charts.chart_words(_chinese()) is report.ENGLISH


def _chart_texts(draw: Any, data: Any, words: Words) -> set[str]:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    fig = Figure()
    draw(fig, data, words)
    found = {t.get_text() for t in fig.findobj(Text)}
    for ax in fig.axes:
        legend = ax.get_legend()
        found |= {t.get_text() for t in (legend.get_texts() if legend else ())}
        found |= {t.get_text() for t in ax.get_xticklabels()}
    return found
