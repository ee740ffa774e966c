"""Playbooks: the installed library, validation of drafts, and previews (counts + paged ids)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from adapters.http.auth import allow
from adapters.http.errors import Invalid
from adapters.http.paging import page, parse_at
from adapters.http.schemas import (
    DraftPreviewIn,
    PlaybookList,
    PlaybookOut,
    PreviewIn,
    PreviewOut,
    ValidateIn,
    ValidateOut,
)
from adapters.http.state import state
from adapters.sweep import sweep
from engine.errors import NotFound, ValidationError
from engine.playbook import Playbook, parse_playbook
from engine.selection import Selection

blp = Blueprint("playbooks", __name__, url_prefix="/playbooks",
                description="The playbook library, draft validation and previews")
DRAFT = "draft.yaml"
SAMPLE = 10


def playbook_json(pb: Playbook) -> dict[str, Any]:
    return {
        "id": pb.id, "title": pb.title, "version": pb.version, "owner": pb.owner,
        "priority": pb.priority,
        "trigger": {"schedule": pb.trigger.schedule, "event": pb.trigger.event},
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
@blp.alt_response(200, schema=PlaybookOut, success=True)
@allow("read")
def get_playbook(playbook_id: str) -> Any:
    pb = _library_playbook(playbook_id)
    return {**playbook_json(pb), "yaml": pb.text}


@blp.route("/validate", methods=["POST"])
@blp.arguments(ValidateIn)
@blp.alt_response(200, schema=ValidateOut, success=True)
@allow("design")
def validate_playbook(body: dict[str, Any]) -> Any:
    """400 lists every problem as {line, column, message} under `problems`."""
    return {"ok": True, "playbook": playbook_json(_draft(body["yaml"]))}


def _preview(pb: Playbook, args: dict[str, Any]) -> dict[str, Any]:
    config = state().config
    at = parse_at(args.get("at"), config)
    with state().transaction() as conn:
        sel = sweep(conn, pb, config, at)
    ids = _group(sel, args["group"])
    chunk, next_cursor = page(ids, args.get("cursor"), args["limit"])
    stride = max(1, len(sel.treatment) // SAMPLE)
    suppressed = {reason: len(found) for reason, found in sel.suppressed.items()}
    return {
        "playbook": pb.id, "version": pb.version,
        "at": at.astimezone(config.timezone).isoformat(timespec="seconds"),
        "counts": {"matched": len(sel.matched), "treatment": len(sel.treatment),
                   "control": len(sel.control), "suppressed": sum(suppressed.values())},
        "steps": dict(sel.steps), "suppressed": suppressed,
        "sample": list(sel.treatment[::stride][:SAMPLE]),
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

