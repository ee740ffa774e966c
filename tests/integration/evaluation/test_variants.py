"""Champion/challenger on both databases: a step's variants are assigned and recorded as the
ticket executes, results compare each variant with control and with each other, and
promoting the winner publishes the next version, with the evidence, in the version history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from support.folders import with_rules

from adapters.access.users import add_user
from adapters.cli import designer as designer_cli
from adapters.db.engines import make_engine
from adapters.db.schema import customers, entries, events, tasks
from adapters.db.schema import tickets as ticket_table
from adapters.http.app import create_app
from adapters.http.state import State
from adapters.tickets import designer, promotion, report, service, versions
from adapters.tickets.report_text import render
from engine.config import Config
from engine.errors import Conflict, NotFound, ValidationError
from engine.playbooks.library import Library, load_library
from engine.playbooks.variant import variant_of
from engine.tickets.users import User

ROOT = Path(__file__).resolve().parents[3]
AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
LEAD = User("bob", frozenset({"campaign_lead"}))
PLAYBOOK = "winback_split"


def _churned(conn: Connection) -> None:
    """600 customers who churned on 2026-10-01 at 200 a month: winback_split takes them all."""
    conn.execute(customers.insert(), [
        {"id": f"v{i:04d}", "name": f"name {i}", "joined_on": dt.date(2019, 1, 1),
         "arpu": 200.0, "churned_on": dt.date(2026, 10, 1), "updated_at": AT}
        for i in range(600)])


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        _churned(conn)
    yield engine
    engine.dispose()


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copytree(ROOT / "rules" / "offers", folder / "offers")
    shutil.copy(ROOT / "tests" / "fixtures" / "variants" / f"{PLAYBOOK}.yaml", folder)
    shutil.copy(ROOT / "rules" / "winback.yaml", folder)  # a playbook without variants
    return folder


def _library(config: Config, rules: Path) -> tuple[Config, Library]:
    mine = with_rules(config, rules)
    return mine, load_library(mine)


def run_split(engine: Engine, config: Config, library: Library) -> int:
    """Plan, approve, execute; the `credit` variant's customers convert most, `call`'s least;
    the goal window is then driven past its end."""
    with engine.begin() as conn:
        ticket = service.plan(conn, config, library, library.playbooks[PLAYBOOK], AT, "manual",
                              "designer")
        assert ticket is not None
        service.approve(conn, config, library, ticket["id"], LEAD, "ok", AT)
        members = conn.execute(sa.select(entries.c.customer_id, entries.c.grp,
                                         entries.c.variant)
                               .where(entries.c.ticket_id == ticket["id"])).all()
        share = {"credit": 0.5, "plain": 0.2, "call": 0.05, None: 0.1}
        won: list[str] = []
        for variant in share:
            ids = sorted(c for c, _, v in members if v == variant)
            won += ids[:round(len(ids) * share[variant])]
        conn.execute(events.insert(), [
            {"id": f"goal-{cid}", "customer_id": cid, "type": "plan_reactivated",
             "at": AT + dt.timedelta(days=2), "data": None, "known_customer": True,
             "received_at": AT} for cid in won])
        service.advance(conn, config, library, AT + dt.timedelta(days=40))
    return int(ticket["id"])


def test_variants_are_assigned_recorded_and_carried_by_the_tasks(
        engine: Engine, config: Config, rules: Path) -> None:
    config, library = _library(config, rules)
    playbook = library.playbooks[PLAYBOOK]
    with engine.begin() as conn:
        ticket = service.plan(conn, config, library, playbook, AT, "manual", "designer")
        assert ticket is not None
        rehearsal = report.gather(conn, config, library, ticket["id"], AT)["rehearsal"]
        service.approve(conn, config, library, ticket["id"], LEAD, "ok", AT)
        members = conn.execute(sa.select(entries.c.customer_id, entries.c.grp,
                                         entries.c.variant)
                               .where(entries.c.ticket_id == ticket["id"])).all()
        made = conn.execute(sa.select(tasks.c.customer_id, tasks.c.channel, tasks.c.payload)
                            .where(tasks.c.ticket_id == ticket["id"])).all()
    assert rehearsal["variants"]["step"] == "sms"
    planned = {v["name"]: v["treatment"] for v in rehearsal["variants"]["variants"]}
    assert sum(planned.values()) == rehearsal["treatment"]
    for cid, grp, variant in members:
        expected = variant_of(PLAYBOOK, playbook.steps, cid) if grp == "treatment" else None
        assert variant == expected
    counts = {name: sum(v == name for _, _, v in members) for name in ("plain", "credit", "call")}
    assert counts == planned
    assert all(n > 100 for n in counts.values())  # 1:1:1 of ~480 treated
    for _cid, channel, payload in made:
        variant = payload["variant"]
        assert channel == ("outbound_call" if variant == "call" else "sms")
        assert payload["template"] == {"plain": "winback_sms", "credit": "winback_sms_credit",
                                       "call": "winback_call"}[variant]
    assert len(made) == sum(counts.values())


def test_results_compare_each_variant_with_control_and_each_other(
        engine: Engine, config: Config, rules: Path) -> None:
    config, library = _library(config, rules)
    ticket_id = run_split(engine, config, library)
    with engine.begin() as conn:
        shown = report.gather(conn, config, library, ticket_id, AT + dt.timedelta(days=41))
    split = shown["results"]["variants"]
    assert split["step"] == "sms"
    by_name = {v["name"]: v for v in split["variants"]}
    assert set(by_name) == {"plain", "credit", "call"}
    goal = shown["results"]["goal"]
    assert sum(v["members"] for v in by_name.values()) == goal["treatment"]["members"]
    assert split["control"] == {k: goal["control"][k] for k in ("members", "conversions", "rate")}
    credit = by_name["credit"]
    assert credit["rate"] == pytest.approx(0.5, abs=0.01)
    vs_control = credit["vs_control"]
    assert vs_control["absolute"] == pytest.approx(credit["rate"] - split["control"]["rate"])
    assert vs_control["low"] < vs_control["absolute"] < vs_control["high"]
    assert split["correction"]["comparisons"] == 6 and split["winner"] == "credit"
    assert vs_control["level"] == pytest.approx(1 - 0.05 / 6)  # Bonferroni's intervals
    pairs = {(p["a"], p["b"]): p["uplift"] for p in split["pairwise"]}
    assert set(pairs) == {("plain", "credit"), ("plain", "call"), ("credit", "call")}
    assert pairs[("credit", "call")]["absolute"] > 0.3
    assert pairs[("credit", "call")]["verdict"] == "significant"
    text = render(shown)
    assert "variants of step sms" in text and "credit vs call: +" in text
    assert "6 comparisons corrected together (Holm; intervals Bonferroni): winner credit" in text
    counts = {v["name"]: v["treatment"] for v in shown["rehearsal"]["variants"]["variants"]}
    assert f"variants    step sms: plain {counts['plain']}, credit {counts['credit']}" in text
    # results stored before the correction (no `correction`, 95% verdicts) read corrected
    old_split = {**split, "correction": None, "winner": None,
                 "variants": [{**v, "vs_control": {**v["vs_control"], "verdict": "significant",
                                                   "level": 0.95}} for v in split["variants"]]}
    with engine.begin() as conn:
        stored = conn.scalar(sa.select(ticket_table.c.results)
                             .where(ticket_table.c.id == ticket_id))
        conn.execute(ticket_table.update().where(ticket_table.c.id == ticket_id)
                     .values(results={**stored, "variants": old_split}))
        again = report.gather(conn, config, library, ticket_id, AT + dt.timedelta(days=41))
    assert again["results"]["variants"] == split


def test_promoting_the_winner_publishes_the_next_version_with_its_reason(
        engine: Engine, config: Config, rules: Path) -> None:
    config, library = _library(config, rules)
    ticket_id = run_split(engine, config, library)
    later = AT + dt.timedelta(days=41)
    with engine.connect() as conn:
        done = promotion.publish(conn, config, library, PLAYBOOK, "credit", "rita", later,
                                 note="the credit line wins")
    assert done.version == 2 and done.ticket_id == ticket_id
    assert done.reason.startswith(f"promoted variant credit from ticket {ticket_id}: +")
    assert " vs control, " in done.reason and " vs plain, " in done.reason
    assert done.reason.endswith(
        "vs call; the winner at 5% (Holm, 6 comparisons); by rita: the credit line wins")
    written = (rules / f"{PLAYBOOK}.yaml").read_text()
    assert "variants" not in written and "version: 2" in written
    assert "template: winback_sms_credit" in written
    assert written.startswith("# Win-back with a champion/challenger")  # comments kept
    new_config, new_library = _library(config, rules)
    new = new_library.playbooks[PLAYBOOK]
    assert (new.version, new.steps[0].variants, new.steps[0].offers) == (2, (), ("winback_credit",))
    with engine.begin() as conn:
        stored = versions.stored(conn, PLAYBOOK)
        assert [(v.version, v.reason) for v in stored] == [(1, None), (2, done.reason)]
        assert stored[1].hash == new.hash
        diff = versions.diff(conn, PLAYBOOK, 1, 2).text
        # the new version is planned like any other: its stored text is the file's
        planned = service.plan(conn, new_config, new_library, new, later + dt.timedelta(days=91),
                               "manual", "designer")
    assert "-    variants:" in diff and "+    template: winback_sms_credit" in diff, diff
    assert planned is not None and planned["version"] == 2


def test_promotion_refuses_bad_input_and_writes_nothing(
        engine: Engine, config: Config, rules: Path) -> None:
    config, library = _library(config, rules)
    before = (rules / f"{PLAYBOOK}.yaml").read_text()
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"playbook_id": "nope", "variant": "credit"}, NotFound, "no playbook 'nope'"),
        ({"playbook_id": "winback", "variant": "credit"}, ValidationError, "no step with"),
        ({"playbook_id": PLAYBOOK, "variant": "credit"}, Conflict, "has started"),
    ]
    with engine.connect() as conn:
        for kwargs, error, words in cases:
            with pytest.raises(error, match=words):
                promotion.publish(conn, config, library, by="rita", now=AT, **kwargs)
    ticket_id = run_split(engine, config, library)
    with engine.connect() as conn:
        with pytest.raises(ValidationError, match="expected one of: plain, credit, call") as bad:
            promotion.publish(conn, config, library, PLAYBOOK, "gold", "rita", AT)
        assert bad.value.problems[0].field == "variant"
        # `call` converts least: not the corrected winner, so only with a reason
        with pytest.raises(ValidationError, match=r"'call' is not the winner .* winner: credit"
                           ) as loser:
            promotion.publish(conn, config, library, PLAYBOOK, "call", "rita", AT)
        assert loser.value.problems[0].field == "reason"
        with pytest.raises(NotFound, match=f"no ticket {ticket_id + 9}"):
            promotion.publish(conn, config, library, PLAYBOOK, "credit", "rita", AT,
                              ticket_id=ticket_id + 9)
        moved = dataclasses.replace(library.playbooks[PLAYBOOK],
                                    file=str(rules / "gone" / f"{PLAYBOOK}.yaml"))
        elsewhere = dataclasses.replace(library, playbooks={PLAYBOOK: moved})
        with pytest.raises(Conflict, match="cannot write"):
            promotion.publish(conn, config, elsewhere, PLAYBOOK, "credit", "rita", AT)
        conn.rollback()
        assert versions.stored(conn, PLAYBOOK)[-1].version == 1
    assert (rules / f"{PLAYBOOK}.yaml").read_text() == before


def test_the_console_shows_the_variants_and_a_designer_promotes_one(
        db_url: str, config: Config, rules: Path) -> None:
    config, _ = _library(config, rules)
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True})
    st: State = app.extensions["tend"]
    with st.engine.begin() as conn:
        _churned(conn)
        tokens = {name: add_user(conn, name, [role], AT)
                  for name, role in (("pat", "designer"), ("vic", "viewer"))}
    ticket_id = run_split(st.engine, config, st.library)
    page = f"/console/playbooks/{PLAYBOOK}"
    vic, pat = _signed_in(app, tokens["vic"]), _signed_in(app, tokens["pat"])
    shown = vic.get(page).get_data(as_text=True)
    card = shown.split('id="variants"')[1].split("</section>")[0]
    assert f"#{ticket_id}" in card and "credit" in card and "significant" in card
    assert "Winner: credit" in card and "6 comparisons are corrected together (Holm)" in card
    assert 'name="variant"' not in card  # a viewer sees the evidence, not the button
    assert 'name="variant"' in pat.get(page).get_data(as_text=True)
    assert _post(vic, f"{page}/promote", {"variant": "credit"}).status_code == 403
    bad = _post(pat, f"{page}/promote", {"variant": "gold", "ticket": str(ticket_id)})
    assert bad.status_code == 303
    assert "unknown variant &#39;gold&#39;" in pat.get(page).get_data(as_text=True)
    done = _post(pat, f"{page}/promote", {"variant": "credit", "ticket": str(ticket_id),
                                          "reason": "credit wins"})
    assert done.status_code == 303 and done.location.endswith(page)
    after = pat.get(page).get_data(as_text=True)
    assert "Promoted credit: v2 written to" in after
    assert f"promoted variant credit from ticket {ticket_id}: +" in after
    assert "by pat: credit wins" in after
    assert "version: 2" in (rules / f"{PLAYBOOK}.yaml").read_text()
    st.dispose()


def _signed_in(app: Any, token: str) -> Any:
    client = app.test_client()
    form = client.get("/console/signin").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    reply = client.post("/console/signin", data={"token": token, "csrf_token": csrf.group(1)})
    assert reply.status_code == 303
    return client


def _post(client: Any, path: str, form: dict[str, str]) -> Any:
    with client.session_transaction() as session:
        token = session["csrf_token"]
    return client.post(path, data={**form, "csrf_token": token})


def test_preview_counts_the_offers_each_variant_would_give(
        db_url: str, config: Config, rules: Path) -> None:
    """`plain` and `credit` give the step's winback_credit, `call` gives none (`offers: []`):
    the step's count is theirs, not the whole treatment's, and each variant shows its own,
    in the service, `tend preview`, the API and the console's draft preview."""
    config, _ = _library(config, rules)
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True})
    st: State = app.extensions["tend"]
    with st.engine.begin() as conn:
        _churned(conn)
        tokens = {name: add_user(conn, name, [role], AT) for name, role in (("pat", "designer"),)}
        found = designer.preview(conn, st.library.playbooks[PLAYBOOK], config, AT,
                                 st.library.offers)
    split = {v["name"]: v for v in found.variants["variants"]}  # type: ignore[index]
    assert sum(v["treatment"] for v in split.values()) == len(found.selection.treatment)
    assert all(v["treatment"] > 100 for v in split.values())  # 1:1:1 of ~480
    # every member churned within 90 days, so everyone given the offer is eligible for it
    assert split["plain"]["offers"] == {"winback_credit": split["plain"]["treatment"]}
    assert split["credit"]["offers"] == {"winback_credit": split["credit"]["treatment"]}
    assert split["call"]["offers"] == {}
    given = split["plain"]["treatment"] + split["credit"]["treatment"]
    assert found.offers == {"sms": {"winback_credit": given}}
    assert found.as_json()["variants"] == found.variants

    text = designer_cli._preview_text(found)
    assert f"(eligible: winback_credit {given:,})" in text
    assert f"variant call           {split['call']['treatment']:>16,}   (no offers)" in text
    assert (f"variant credit         {split['credit']['treatment']:>16,}   (eligible: "
            f"winback_credit {split['credit']['treatment']:,})") in text

    client = app.test_client()
    reply = client.post(f"/playbooks/{PLAYBOOK}/preview", json={"at": AT.isoformat()},
                        headers={"Authorization": f"Bearer {tokens['pat']}"})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["offers"] == found.offers and body["variants"] == found.variants

    pat = _signed_in(app, tokens["pat"])
    with pat.session_transaction() as session:
        csrf = session["csrf_token"]
    page = pat.post("/console/draft", data={
        "yaml": (rules / f"{PLAYBOOK}.yaml").read_text(), "at": "2026-11-20",
        "csrf_token": csrf}).get_data(as_text=True)
    table = page.split('id="variant-offers"')[1].split("</table>")[0]
    row = table.split("<td>call</td>")[1].split("</tr>")[0]
    assert "no offers" in row
    row = table.split("<td>credit</td>")[1].split("</tr>")[0]
    assert f"winback_credit {split['credit']['treatment']}" in row
    assert 'id="offers"' in page
    st.dispose()
