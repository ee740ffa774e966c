"""The designer's pages: the playbook library with versions, diffs and each version's
tickets; the draft editor (validate and preview without installing); explain.

The draft editor calls what `tend preview PATH` and `POST /playbooks/preview` call: the
parser against the installed workflows, then `adapters.tickets.designer.preview`; its sample
is the rehearsal a ticket would show (`adapters.tickets.planning.rehearsal`), so a designer
sees what an approver will.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from adapters.evaluation import readouts
from adapters.http.console.access import bp, page, permitted
from adapters.http.console.queries import DraftQuery, ExplainPageQuery, PlaybookQuery
from adapters.http.contract import query_args
from adapters.http.state import state
from adapters.tickets import designer, planning, promotion, versions
from engine.errors import Conflict, NotFound, Problem, ValidationError
from engine.formats.values import given_instant
from engine.playbooks.playbook import Playbook
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.policy_fit import policy_warnings

DRAFT = "draft.yaml"
DRAFT_SAMPLE = 10
MAX_DRAFT = 200_000


@bp.get("/playbooks")
@page("read")
def library() -> str:
    st = state()
    with st.transaction() as conn:
        stored = _grouped(versions.stored(conn))
        runs = versions.runs(conn)
    ids = sorted({*st.library.playbooks, *stored})
    rows = [{"id": pid, "installed": st.library.playbooks.get(pid),
             "versions": stored.get(pid, []),
             "tickets": sum(len(v) for (p, _), v in runs.items() if p == pid)} for pid in ids]
    return render_template("console/library.html", rows=rows,
                           may_design=permitted(g.user, "design"))


@bp.get("/playbooks/<playbook_id>")
@page("read")
def playbook_page(playbook_id: str) -> str:
    st = state()
    args = query_args(PlaybookQuery())
    installed = st.library.playbooks.get(playbook_id)
    with st.transaction() as conn:
        stored = versions.stored(conn, playbook_id)
        runs = versions.runs(conn, playbook_id)
        va, vb = args.get("a"), args.get("b")
        diff = None if va is None or vb is None else versions.diff(conn, playbook_id, va, vb)
        contest = promotion.contest(conn, st.config, st.library, playbook_id, st.now())
        read = readouts.charted(conn, playbook_id,
                                readouts.Reading(st.config, st.library, st.now()))
        effect = None if diff is None else designer.audience_effect(
            conn, st.config, st.library, playbook_id, (diff.a, diff.b), st.now())
    if installed is None and not stored:
        raise NotFound(f"unknown playbook {playbook_id!r}", code="playbook.not_found",
                       params={"playbook": playbook_id})
    return render_template("console/playbook.html", id=playbook_id, installed=installed,
                           versions=stored, runs=runs, diff=diff, effect=effect,
                           schedule=_schedule_words(installed),
                           readouts={v: {**r, "chart": _data_uri(r["chart"])}
                                     for v, r in read.items()},
                           a=request.args.get("a"), b=request.args.get("b"),
                           may_design=permitted(g.user, "design"), contest=contest)


@bp.post("/playbooks/<playbook_id>/promote")
@page("design")
def promote(playbook_id: str) -> Response:
    """Publish the next version with one variant promoted (adapters/tickets/promotion.py,
    as `tend promote`). This process keeps the library it loaded, like after any edit of
    the library folder: the new version runs once the service restarts."""
    st = state()
    ticket = request.form.get("ticket", "")
    try:
        with st.transaction(write=True) as conn:
            done = promotion.publish(conn, st.config, st.library, playbook_id,
                                     request.form.get("variant", ""), g.user.name, st.now(),
                                     int(ticket) if ticket.isdigit() else None,
                                     request.form.get("reason"))
    except (ValidationError, Conflict) as exc:
        flash(exc.message, "error")
    else:
        flash(_("Promoted %(variant)s: v%(version)s written to %(file)s. The service runs it "
                "after its next restart.", variant=done.variant, version=done.version,
                file=done.file), "ok")
    return redirect(url_for("console.playbook_page", playbook_id=playbook_id), 303)


def _data_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode()


def _schedule_words(playbook: Playbook | None) -> str | None:
    """The cron of a scheduled playbook (the page shows it in words beside it)."""
    if playbook is None or not playbook.trigger.schedule:
        return None
    return playbook.trigger.schedule


def _grouped(stored: list[versions.StoredVersion]) -> dict[str, list[versions.StoredVersion]]:
    found: dict[str, list[versions.StoredVersion]] = {}
    for version in stored:
        found.setdefault(version.playbook, []).append(version)
    return found


@bp.route("/draft", methods=["GET", "POST"])
@page("design")
def draft() -> str:
    st = state()
    query_args(DraftQuery())
    text = request.form.get("yaml")
    if text is None:
        source = st.library.playbooks.get(request.args.get("from", ""))
        text = source.text if source else ""
    at_text = request.values.get("at") or st.config.today(state().now()).isoformat()
    problems: list[Problem] = []
    preview = None
    if request.method == "POST":
        problems, preview = _try(text, at_text)
    by_line: dict[int, list[Problem]] = {}
    for problem in problems:
        by_line.setdefault(problem.line, []).append(problem)
    return render_template("console/draft.html", text=text, at=at_text, problems=problems,
                           by_line=by_line, lines=text.splitlines(), preview=preview,
                           checked=request.method == "POST",
                           playbooks=sorted(st.library.playbooks))


def _try(text: str, at_text: str) -> tuple[list[Problem], dict[str, Any] | None]:
    """The draft's problems, or its preview at `at_text` (nothing is installed)."""
    st = state()
    if len(text) > MAX_DRAFT:
        return [Problem(DRAFT, 0, 0, f"a draft has at most {MAX_DRAFT:,} characters")], None
    try:
        playbook = parse_playbook(text, DRAFT, st.config, st.library.workflows)
        at = given_instant(at_text, st.config.timezone, "at", st.now())
    except ValidationError as exc:
        return list(exc.problems), None
    with st.transaction() as conn:
        found = designer.preview(conn, playbook, st.config, at, st.library.offers)
        rehearsal = planning.rehearsal(conn, st.config, playbook, found.selection, at,
                                       DRAFT_SAMPLE)
    return [], {"playbook": playbook, "rehearsal": rehearsal, "offers": found.offers,
                "variants": found.variants, "warnings": policy_warnings(playbook, st.config)}


@bp.get("/explain")
@page("read")
def explain() -> str:
    st = state()
    query_args(ExplainPageQuery())
    customer = (request.args.get("customer") or "").strip()
    chosen = request.args.get("playbook") or ""
    at_text = request.args.get("at") or ""
    found, error = None, None
    if customer:
        playbooks = ([st.library.playbooks[chosen]] if chosen in st.library.playbooks
                     else sorted(st.library.playbooks.values(), key=lambda p: p.id))
        try:
            at = given_instant(at_text or None, st.config.timezone, "at", st.now())
            with st.transaction() as conn:
                found = designer.explain(conn, customer, playbooks, st.config, at)
        except (ValidationError, NotFound) as exc:
            error = exc.message
    return render_template("console/explain.html", customer=customer, chosen=chosen,
                           at=at_text, found=found, error=error,
                           playbooks=sorted(st.library.playbooks))
