"""The playbook versions tickets were planned on: one API to list them, read one, diff two,
and list each version's tickets.

Planning stores a version's text the first time a ticket is planned on it
(adapters.tickets.planning); nothing else writes these rows. `GET /playbooks/<id>/versions`,
`.../diff/...` and the console's library and playbook pages read them here, so the API and the
console show the same versions and the same diff.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.db.schema import playbook_versions, tickets
from engine.errors import NotFound


@dataclass(frozen=True)
class StoredVersion:
    playbook: str
    version: int
    hash: str  # engine.playbooks.playbook.content_hash: comments and formatting don't count
    loaded_at: dt.datetime  # when a ticket was first planned on it (or it was promoted)
    reason: str | None = None  # why Tend wrote it: a promotion's evidence (0019)


@dataclass(frozen=True)
class DiffRow:
    """One row of the side-by-side view: the old line and the new line beside it (None where
    a side has no line), `kind` one of equal, changed, added, removed, or `gap` for the
    `hidden` unchanged lines left out there."""

    kind: str
    old_no: int | None = None
    old: str | None = None
    new_no: int | None = None
    new: str | None = None
    hidden: int = 0


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version `a` to `b` as the designer wrote it (comments included):
    the lines of a unified diff, without their line ends, and the same change as rows of
    old | new for a side-by-side view."""

    playbook: str
    a: int
    b: int
    lines: list[str]
    rows: list[DiffRow] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The diff as one text, each line ended by a newline (empty when the texts are the
        same)."""
        return "".join(f"{line}\n" for line in self.lines)


@dataclass(frozen=True)
class Run:
    """A ticket planned on a version, with what its rehearsal counted and its results."""

    id: int
    playbook: str
    version: int
    state: str
    planned_at: dt.datetime
    rehearsal: dict[str, Any] | None
    results: dict[str, Any] | None


def stored(conn: Connection, playbook_id: str | None = None) -> list[StoredVersion]:
    """The stored versions of one playbook (or of every playbook), by playbook and then
    version, oldest first. A playbook since removed from the library keeps its versions."""
    table = playbook_versions
    query = sa.select(table.c.playbook, table.c.version, table.c.hash, table.c.loaded_at,
                      table.c.reason)
    if playbook_id is not None:
        query = query.where(table.c.playbook == playbook_id)
    rows = conn.execute(query.order_by(table.c.playbook, table.c.version))
    return [StoredVersion(r.playbook, r.version, r.hash, r.loaded_at, r.reason) for r in rows]


def text(conn: Connection, playbook_id: str, version: int) -> str:
    """The text of a stored version, as written; NotFound naming it if none is stored."""
    return _texts(conn, playbook_id, (version,))[version]


def diff(conn: Connection, playbook_id: str, a: int, b: int) -> VersionDiff:
    """The unified diff from version `a` to `b`; NotFound naming each version not stored."""
    texts = _texts(conn, playbook_id, (a, b))
    lines = difflib.unified_diff(texts[a].splitlines(), texts[b].splitlines(),
                                 f"{playbook_id}@v{a}", f"{playbook_id}@v{b}", lineterm="")
    return VersionDiff(playbook_id, a, b, list(lines),
                       side_by_side(texts[a].splitlines(), texts[b].splitlines()))


CONTEXT = 3  # unchanged lines shown around each change, as in the unified diff


def side_by_side(old: list[str], new: list[str]) -> list[DiffRow]:
    """The change as rows old | new (difflib's opcodes): a replaced block pairs its lines in
    order, the longer side's extra lines facing nothing; unchanged stretches beyond CONTEXT
    lines of a change become one `gap` row saying how many lines it hides."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    shown_to = 0  # old lines before this index are shown or reported as a gap
    for group in matcher.get_grouped_opcodes(CONTEXT):
        if group[0][1] > shown_to:
            rows.append(DiffRow("gap", hidden=group[0][1] - shown_to))
        for tag, i1, i2, j1, j2 in group:
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                o = old[i] if i < i2 else None
                n = new[j] if j < j2 else None
                kind = ("equal" if tag == "equal" else "changed" if o is not None
                        and n is not None else "removed" if n is None else "added")
                rows.append(DiffRow(kind, i + 1 if o is not None else None, o,
                                    j + 1 if n is not None else None, n))
        shown_to = group[-1][2]
    if rows and shown_to < len(old):
        rows.append(DiffRow("gap", hidden=len(old) - shown_to))
    return rows


def _texts(conn: Connection, playbook_id: str, wanted: tuple[int, ...]) -> dict[int, str]:
    table = playbook_versions
    found: dict[int, str] = {row.version: row.text for row in conn.execute(
        sa.select(table.c.version, table.c.text).where(
            table.c.playbook == playbook_id, table.c.version.in_(wanted)))}
    missing = [str(v) for v in dict.fromkeys(wanted) if v not in found]
    if missing:
        raise NotFound(f"playbook {playbook_id!r} has no stored version {', '.join(missing)}",
                       code="playbook.version_not_found",
                       params={"playbook": playbook_id, "versions": missing})
    return found


def runs(conn: Connection, playbook_id: str | None = None) -> dict[tuple[str, int], list[Run]]:
    """Each version's tickets, newest first, keyed by (playbook, version)."""
    query = sa.select(tickets.c.id, tickets.c.playbook, tickets.c.version, tickets.c.state,
                      tickets.c.planned_at, tickets.c.rehearsal, tickets.c.results)
    if playbook_id is not None:
        query = query.where(tickets.c.playbook == playbook_id)
    found: dict[tuple[str, int], list[Run]] = {}
    for row in conn.execute(query.order_by(tickets.c.id.desc())):
        found.setdefault((row.playbook, row.version), []).append(Run(*row))
    return found
