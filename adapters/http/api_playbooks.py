"""Playbooks: the installed library, validation of drafts, previews (counts + paged ids), and
the versions tickets ran on with the diff between two of them."""

from __future__ import annotations

import dataclasses
from typing import Any

from adapters.http.auth import allow
from adapters.http.contract import Blueprint
from adapters.http.errors import problem_json
from adapters.http.paging import page
from adapters.http.playbook_schemas import (
    DiffOut,
    DraftPreviewIn,
    PlaybookDetailOut,
    PlaybookList,
    PreviewIn,
    PreviewOut,
    ValidateIn,
    ValidateOut,
    VersionList,
)
from adapters.http.state import state
from adapters.tickets import designer, versions
from engine.errors import Invalid, NotFound, ValidationError
from engine.formats.values import given_instant
from engine.playbooks.playbook import Playbook
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.policy_fit import policy_warnings
from engine.playbooks.selection import Selection

blp = Blueprint("playbooks", __name__, url_prefix="/playbooks",
                description="The playbook library, draft validation and previews")
DRAFT = "draft.yaml"
SAMPLE = 10


def playbook_json(pb: Playbook) -> dict[str, Any]:
    return {
        "id": pb.id, "title": pb.title, "version": pb.version, "owner": pb.owner,
        "priority": pb.priority,
        "trigger": {"schedule": pb.trigger.schedule, "event": pb.trigger.event,
                    "contact": list(pb.trigger.contact) or None},
        "workflow": pb.workflow, "holdout": pb.holdout,
        "cooldown": f"{pb.cooldown.days}d" if pb.cooldown else None,
        "steps": [{"id": s.id, "channel": s.channel, "route": s.route, "template": s.template,
                   "delay_seconds": int(s.delay.total_seconds()), "unless": s.unless}
                  for s in pb.steps],
        "goal": ({"event": pb.goal.event, "within_days": pb.goal.within.days}
                 if pb.goal else None),
        "hash": pb.hash,
    }


def _library_playbook(playbook_id: str) -> Playbook:
    found = state().library.playbooks.get(playbook_id)
    if found is None:
        raise NotFound(f"unknown playbook {playbook_id!r}")
    return found


def _draft(text: str) -> Playbook:
    """A posted playbook, checked against the installed workflows; never installed."""
    try:
        return parse_playbook(text, DRAFT, state().config, state().library.workflows)
    except ValidationError as exc:
        raise Invalid(f"{len(exc.problems)} problem(s) in the playbook",
                      {"yaml": [f"{p.line}:{p.column}: {p.message}" for p in exc.problems]},
                      exc.problems) from None


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PlaybookList, success=True)
@allow("read")
def list_playbooks() -> Any:
    """Every installed playbook (the library is small: one page)."""
    items = sorted(state().library.playbooks.values(), key=lambda p: p.id)
    return {"items": [playbook_json(p) for p in items], "next_cursor": None}


@blp.route("/<playbook_id>", methods=["GET"])
@blp.alt_response(200, schema=PlaybookDetailOut, success=True)
@allow("read")
def get_playbook(playbook_id: str) -> Any:
    pb = _library_playbook(playbook_id)
    return {**playbook_json(pb), "yaml": pb.text}


@blp.route("/validate", methods=["POST"])
@blp.arguments(ValidateIn)
@blp.alt_response(200, schema=ValidateOut, success=True)
@allow("design")
def validate_playbook(body: dict[str, Any]) -> Any:
    """400 lists every problem as {line, column, message} under `problems`; a valid draft may
    come with `warnings` in that shape (steps the contact policy can never let through)."""
    playbook = _draft(body["yaml"])
    return {"ok": True, "playbook": playbook_json(playbook),
            "warnings": [problem_json(w) for w in policy_warnings(playbook, state().config)]}


def _preview(pb: Playbook, args: dict[str, Any]) -> dict[str, Any]:
    config = state().config
    at = given_instant(args.get("at"), config.timezone, "at", state().now())
    with state().transaction() as conn:
        found = designer.preview(conn, pb, config, at, state().library.offers)
    sel = found.selection
    ids = _group(sel, args["group"])
    chunk, next_cursor = page(ids, args.get("cursor"), args["limit"])
    stride = max(1, len(sel.treatment) // SAMPLE)
    suppressed = {reason: len(found) for reason, found in sel.suppressed.items()}
    return {
        "playbook": pb.id, "version": pb.version,
        "at": found.at,
        "counts": {"matched": len(sel.matched), "treatment": len(sel.treatment),
                   "control": len(sel.control), "suppressed": sum(suppressed.values())},
        "steps": dict(sel.steps), "suppressed": suppressed,
        "sample": list(sel.treatment[::stride][:SAMPLE]), "power": found.power,
        "offers": found.offers, "variants": found.variants,
        "group": args["group"], "ids": chunk, "next_cursor": next_cursor,
    }


def _group(sel: Selection, group: str) -> list[str]:
    if group == "suppressed":
        return sorted(cid for found in sel.suppressed.values() for cid in found)
    found: tuple[str, ...] = getattr(sel, group)
    return sorted(found)


@blp.route("/<playbook_id>/preview", methods=["POST"])
@blp.arguments(PreviewIn)
@blp.alt_response(200, schema=PreviewOut, success=True)
@allow("design")
def preview_installed(args: dict[str, Any], playbook_id: str) -> Any:
    """Who an installed playbook takes at `at`: counts, step counts, suppressions by reason,
    a sample, and one page of ids of `group`."""
    return _preview(_library_playbook(playbook_id), args)


@blp.route("/preview", methods=["POST"])
@blp.arguments(DraftPreviewIn)
@blp.alt_response(200, schema=PreviewOut, success=True)
@allow("design")
def preview_draft(args: dict[str, Any]) -> Any:
    """The same for a posted draft, validated against the installed workflows first."""
    return _preview(_draft(args["yaml"]), args)



@blp.route("/<playbook_id>/versions", methods=["GET"])
@blp.alt_response(200, schema=VersionList, success=True)
@allow("read")
def list_versions(playbook_id: str) -> Any:
    """The versions stored when tickets were planned on them, oldest first. A playbook since
    removed from the library still lists its versions; one never heard of is a 404."""
    with state().transaction() as conn:
        found = versions.stored(conn, playbook_id)
    if not found and playbook_id not in state().library.playbooks:
        raise NotFound(f"unknown playbook {playbook_id!r}")
    items = [{"version": v.version, "hash": v.hash, "loaded_at": v.loaded_at.isoformat(),
              "reason": v.reason} for v in found]
    return {"items": items, "next_cursor": None}


@blp.route("/<playbook_id>/versions/<int:a>/diff/<int:b>", methods=["GET"])
@blp.alt_response(200, schema=DiffOut, success=True)
@allow("read")
def diff_versions(playbook_id: str, a: int, b: int) -> Any:
    """What changed from version `a` to `b`, as the designer wrote it (comments included):
    a unified diff of the two stored texts, the same change as side-by-side `rows`, and
    `audience`: what each version selects now (both swept at the same instant)."""
    st = state()
    with st.transaction() as conn:
        found = versions.diff(conn, playbook_id, a, b)
        effect = designer.audience_effect(conn, st.config, st.library, playbook_id, (a, b),
                                          st.now())
    return {"playbook": playbook_id, "from": a, "to": b, "diff": found.text,
            "rows": [dataclasses.asdict(row) for row in found.rows], "audience": effect}
