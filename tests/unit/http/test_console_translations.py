"""The console's Chinese catalog: every message the templates and code use is translated, and
the shipped .mo is the compiled .po (a fresh clone needs no build step)."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import adapters.http.console

CONSOLE = Path(adapters.http.console.__file__).resolve().parent
MESSAGES = CONSOLE / "translations" / "zh" / "LC_MESSAGES"
RECOMPILE = ("recompile: .venv/bin/pybabel compile -d adapters/http/console/translations "
             "(docs/CONSOLE.md)")


def catalog() -> dict[str, str]:
    """msgid → its Chinese (the messages without a context: a page's words)."""
    return {msgid: text for (context, msgid), text in in_context().items() if context is None}


def in_context() -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) → its Chinese, for every message (`planned` is a state and, in the
    context `report row`, the row of when a ticket was planned)."""
    with (MESSAGES / "messages.po").open("rb") as f:
        po = read_po(f)
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]):
            m.string if isinstance(m.string, str) else m.string[0] for m in po if m.id}


def test_every_message_used_is_translated() -> None:
    """What `pybabel extract` finds with the documented command (babel.cfg, adapters/http,
    adapters/tickets and adapters/cli) is in the catalog, translated: a new _() without its
    Chinese fails here."""
    with (CONSOLE / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    used = {msg[2] if isinstance(msg[2], str) else msg[2][0]
            for folder in (CONSOLE.parent, CONSOLE.parent.parent / "tickets",
                           CONSOLE.parent.parent / "cli")
            for msg in extract_from_dir(str(folder), method_map, options_map,
                                        keywords={"_": None, "_l": None, "gettext": None,
                                                  "ngettext": (1, 2)})}
    assert "Inbox" in used and "There is no ticket %(ticket)s." in used  # every folder read
    assert "Weekly cohorts" in used and "days since entry" in used  # the report, its charts
    assert "%(n)s problem(s)" in used  # what the command line says
    translated = {msgid for (_context, msgid), v in in_context().items() if v}
    assert used - translated == set()


def test_the_shipped_mo_is_the_compiled_po() -> None:
    with (MESSAGES / "messages.mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    for (context, msgid), text in in_context().items():
        found = mo.pgettext(context, msgid) if context else mo.gettext(msgid)
        assert found == text, RECOMPILE
    assert mo.gettext("Approved.") == "已批准。"
