"""Promote a step variant to the next playbook version (`tend promote`, the console's playbook
page): the designer's publishing, done for them.

A designer publishes a version by writing the playbook's file in the library folder with the
version bumped (docs/PLAYBOOKS.md); the database stores the text when a ticket is first planned
on it. Promotion does exactly that, at once: it reads the variant results of a ticket of the
library's version (the newest one that started, or the one named), writes the next version's
text into the playbook's own file (checked like any library file first, then replaced
atomically), and stores that version in `playbook_versions` with the reason the history shows
("promoted variant X from ticket N: +a pts vs control ...; the winner at 5% (Holm, 6
comparisons)"). The ticket's comparisons are corrected as one family
(engine/measurement/multiplicity.py); a variant that is not their winner may still be promoted (it
may be cheaper, or the evidence may be a pilot's), but only with a written reason. Planning the new
version later finds the same text and hash there. The file is written before the transaction
commits; if the commit fails, the old text is put back.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.db.engines import begin_writes
from adapters.db.schema import playbook_versions, tickets
from adapters.evaluation.results import results
from adapters.evaluation.variants import judged
from adapters.tickets.store import planned_playbook
from engine.config import Config
from engine.errors import Conflict, NotFound, ValidationError
from engine.measurement.promotion import promoted_text, reason_of, standing_of
from engine.playbooks.library import Library
from engine.playbooks.playbook import Playbook
from engine.playbooks.playbook_loader import parse_playbook
from engine.playbooks.variant import variant_step

STARTED = ("executing", "evaluating", "closed")
MAX_NOTE = 500


@dataclass(frozen=True)
class Promotion:
    playbook: str
    step: str
    variant: str
    ticket_id: int
    version: int  # the version written
    reason: str
    file: str
    text: str
    previous_text: str


def promote(conn: Connection, config: Config, library: Library, playbook_id: str,
            variant: str, by: str, now: dt.datetime, ticket_id: int | None = None,
            note: str | None = None) -> Promotion:
    """Write and record the next version of `playbook_id` with `variant` promoted; the caller
    commits (and calls `undo` if the commit fails). Raises NotFound (playbook, ticket),
    ValidationError naming `variant`, `ticket` or `reason`, Conflict when no ticket of the
    library's version has started, or when the file cannot be written."""
    playbook = library.playbooks.get(playbook_id)
    if playbook is None:
        raise NotFound(f"no playbook {playbook_id!r} in the library")
    step = variant_step(playbook.steps)
    if step is None:
        raise ValidationError(f"playbook {playbook_id!r} v{playbook.version} has no step with "
                              f"variants", field="variant")
    chosen = next((v for v in step.variants if v.name == variant), None)
    if chosen is None:
        raise ValidationError(f"unknown variant {variant!r} of step {step.id!r} (expected one "
                              f"of: {', '.join(v.name for v in step.variants)})",
                              field="variant")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationError(f"at most {MAX_NOTE} characters, got {len(note)}", field="reason")
    row = _ticket(conn, playbook, ticket_id)
    split = _split(conn, config, library, row, now)
    if note is None and split.get("correction") and split.get("winner") != variant:
        raise ValidationError(
            f"variant {variant!r} is not the winner of ticket {row.id} at the corrected level "
            f"({standing_of(variant, split)}): say why it is promoted anyway",
            field="reason")
    version = _next_version(conn, playbook)
    text = promoted_text(playbook.text, step.id, chosen, version)
    made = parse_playbook(text, playbook.file, config, library.workflows, library.offers)
    reason = reason_of(variant, row.id, split, by, note)
    try:
        conn.execute(playbook_versions.insert().values(
            playbook=made.id, version=made.version, hash=made.hash, text=made.text,
            loaded_at=now, reason=reason))
    except IntegrityError:  # another promotion (or a planning) stored this version first
        raise Conflict(f"version {version} of playbook {playbook.id!r} was stored meanwhile: "
                       f"reload the library and promote again") from None
    _replace(Path(playbook.file), text)
    return Promotion(playbook.id, step.id, variant, row.id, version, reason, playbook.file,
                     text, playbook.text)


def undo(promotion: Promotion) -> None:
    """Put the file back as it was (the transaction recording the version failed)."""
    with suppress(OSError):
        _replace(Path(promotion.file), promotion.previous_text)


def _ticket(conn: Connection, playbook: Playbook, ticket_id: int | None) -> Any:
    query = sa.select(tickets).where(tickets.c.playbook == playbook.id)
    if ticket_id is not None:
        row = conn.execute(query.where(tickets.c.id == ticket_id)).first()
        if row is None:
            raise NotFound(f"no ticket {ticket_id} of playbook {playbook.id!r}")
        if row.version != playbook.version or row.state not in STARTED:
            raise ValidationError(
                f"ticket {ticket_id} is {row.state} on v{row.version}: expected a ticket of "
                f"the library's v{playbook.version} that started executing", field="ticket")
        return row
    row = conn.execute(query.where(tickets.c.version == playbook.version,
                                   tickets.c.state.in_(STARTED))
                       .order_by(tickets.c.id.desc()).limit(1)).first()
    if row is None:
        raise Conflict(f"no ticket of playbook {playbook.id!r} v{playbook.version} has "
                       f"started: nothing measures its variants yet")
    return row


def _split(conn: Connection, config: Config, library: Library, row: Any,
           now: dt.datetime) -> dict[str, Any]:
    """The ticket's variant results: stored at closing (judged again from their counts, so
    results stored before the correction read corrected), else computed up to now."""
    found = row.results
    if not found or "variants" not in found:
        ran = planned_playbook(conn, config, library, row)
        found = results(conn, config, ran, row.id, now, standing=False)
    split: dict[str, Any] | None = found.get("variants")
    if split is None:
        raise ValidationError(f"ticket {row.id} has no variant results", field="ticket")
    return judged(split)


def _next_version(conn: Connection, playbook: Playbook) -> int:
    stored = conn.scalar(sa.select(sa.func.max(playbook_versions.c.version))
                         .where(playbook_versions.c.playbook == playbook.id))
    return max(playbook.version, stored or 0) + 1


def _replace(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: readers see the old or the new file whole."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
        raise Conflict(f"cannot write {path}: {exc.strerror}") from None


def publish(conn: Connection, config: Config, library: Library, playbook_id: str,
            variant: str, by: str, now: dt.datetime, ticket_id: int | None = None,
            note: str | None = None) -> Promotion:
    """`promote` and commit: the file and the stored version go together, or neither does
    (a failed commit puts the file back). Promotions queue for SQLite's write lock."""
    begin_writes(conn)
    done = promote(conn, config, library, playbook_id, variant, by, now, ticket_id, note)
    try:
        conn.commit()
    except BaseException:
        undo(done)
        raise
    return done


def contest(conn: Connection, config: Config, library: Library, playbook_id: str,
            now: dt.datetime) -> dict[str, Any] | None:
    """What the console's promote card shows: the variant results of the newest started
    ticket of the library's version (`{"ticket_id", "step", ...results}`), None when the
    playbook has no variants or nothing has measured them yet."""
    playbook = library.playbooks.get(playbook_id)
    if playbook is None or variant_step(playbook.steps) is None:
        return None
    try:
        row = _ticket(conn, playbook, None)
        split = _split(conn, config, library, row, now)
    except (Conflict, ValidationError):
        return None
    return {"ticket_id": row.id, **split}
