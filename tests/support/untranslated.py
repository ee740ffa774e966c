"""What a Chinese page shows in English: each catalog sentence whose Chinese differs,
found in a page's visible text (tests/integration/console/test_console_chinese.py, the
report's test)."""

from __future__ import annotations

import html
import re

from babel.messages.pofile import read_po

from adapters.http.console import i18n

MESSAGES = i18n.TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
HIDDEN = re.compile(r"<(script|style|pre|code|textarea|select)\b.*?</\1>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")
# A customer's values next to the conditions (`tier` is `diamond`) are data, as the
# condition's code beside them; the fixture's customers are called "Customer <n>"; a step's
# id is the playbook's (`sms`, beside its channel's label).
DATA = re.compile(r'(<span class="actual">[^<]*<b>)[^<]*(</b>)|\bCustomer \d+\b'
                  r'|<span class="sid">[^<]*</span>')


def english_sentences() -> list[tuple[str, re.Pattern[str]]]:
    """Each msgid whose Chinese differs from it, as a pattern of its words (placeholders
    match anything), so an English sentence on a page is found whatever it was filled with.
    Messages of two letters or fewer, or that are only placeholders, say nothing alone."""
    with MESSAGES.open("rb") as f:
        catalog = read_po(f)
    found = []
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else message.string[0]
        words = re.sub(r"%\(\w+\)s", "", msgid).strip(" ,.:;()")
        if not msgid or text == msgid or len(words) <= 2:
            continue
        parts = [re.escape(p) for p in re.split(r"%\(\w+\)s", msgid)]
        found.append((msgid, re.compile(r"(?<![\w-])" + ".+?".join(parts) + r"(?![\w-])")))
    return found


def page_text(page: str) -> str:
    """What a reader sees: no scripts, no code, YAML or form inputs (which are data)."""
    return html.unescape(TAG.sub(" ", HIDDEN.sub(" ", DATA.sub(r"\1\2", page))))


def untranslated(page: str) -> list[str]:
    text = page_text(page)
    return [msgid for msgid, pattern in english_sentences() if pattern.search(text)]
