"""Every console page read in Chinese is in Chinese: no sentence of the catalog shows in
English on a zh-CN page (a string someone forgot to pass through _(), a label table that
misses a code, an error without its code). Pages are those of every role, the draft editor
with a broken and a valid draft, and the error pages."""

from __future__ import annotations

import re

import pytest
from support.untranslated import page_text, untranslated
from test_console import DRAFT, Console, console  # noqa: F401  (the fixture)

from adapters.http.console import labels
from adapters.http.state import state

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# The shipped channels' names (config.yaml): a Chinese page words them (labels.CHANNEL_LABELS).
CHANNEL_CODE = re.compile(r"(?<![\w-])(sms|outbound_call|email|push|store|account_manager"
                          r"|hotline|online)(?![\w-])")


def test_every_console_page_in_chinese_has_no_english_catalog_sentence(
        console: Console) -> None:  # noqa: F811  (the fixture imported above)
    pages: dict[str, str] = {}
    root = console.browser("root", **ZH)
    for path in ("/console/", f"/console/tickets/{console.swept}",
                 f"/console/tickets/{console.by_pat}", "/console/playbooks",
                 "/console/playbooks/high_value_upsell", "/console/playbooks/retention_inbound",
                 "/console/draft", "/console/explain?customer=d01", "/console/customers",
                 "/console/customers/d01", "/console/customers/d01/compact",
                 f"/console/tickets/{console.swept}/report"):
        pages[path] = root.text(path)
    broken = root.post("/console/draft", {"yaml": DRAFT.replace("channel: outbound_call",
                                                                "chanel: outbound_call")
                                          .replace("version: 2", "version: two")})
    pages["draft with problems"] = broken.get_data(as_text=True)
    pages["draft preview"] = root.post("/console/draft", {"yaml": DRAFT}).get_data(as_text=True)
    pages["desk"] = console.browser("mia", **ZH).text("/console/desk")
    pages["sign-in"] = console.browser(None, **ZH).text("/console/signin")
    missing = root.get("/console/tickets/9999")
    assert missing.status_code == 404
    pages["no such ticket"] = missing.get_data(as_text=True)
    refused = console.browser("vic", **ZH).get("/console/draft")
    assert refused.status_code == 403
    pages["not open to a viewer"] = refused.get_data(as_text=True)

    assert "没有工单 9999。" in page_text(pages["no such ticket"])
    assert "vic（只读用户）无权打开此页面。" in page_text(pages["not open to a viewer"])
    assert "应为整数，实际为 'two'" in page_text(pages["draft with problems"])
    found = {name: untranslated(page) for name, page in pages.items()}
    assert {name: msgids for name, msgids in found.items() if msgids} == {}
    raw = {name: CHANNEL_CODE.findall(page_text(page)) for name, page in pages.items()}
    assert {name: codes for name, codes in raw.items() if codes} == {}


def test_the_finder_sees_an_english_sentence_on_a_chinese_page() -> None:
    """The check above is only as good as its finder: English text is found, data is not."""
    assert "Inbox" in untranslated("<h1>Inbox</h1>")
    assert "Level %(n)s" in untranslated("<b>Level 2</b>")
    assert untranslated("<h1>收件箱</h1><pre>Inbox</pre><code>missing</code>") == []


def test_the_api_words_a_coded_error_in_the_clients_language(
        console: Console) -> None:  # noqa: F811  (the fixture imported above)
    client = console.app.test_client()
    bearer = {"Authorization": f"Bearer {console.tokens['vic']}"}
    english = client.get("/tickets/9999", headers=bearer)
    chinese = client.get("/tickets/9999", headers={**bearer, **ZH})
    assert english.status_code == chinese.status_code == 404
    assert english.json["message"] == "no ticket 9999"  # as it always was
    assert chinese.json["message"] == "没有工单 9999。"
    assert chinese.json["code"] == "ticket.not_found" and chinese.json["params"] == {"ticket": 9999}


def test_a_channel_reads_as_its_config_label_else_the_shipped_default(
        console: Console, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """config.yaml's `label: {zh, en}` wins; a shipped name has its words; another name shows
    as itself (an operator's channel nobody labelled)."""
    from dataclasses import replace

    with console.app.test_request_context(headers=ZH):
        config = state().config
        relabelled = replace(config.channels["sms"], label={"zh": "短讯", "en": "Text"})
        monkeypatch.setitem(config.channels, "sms", relabelled)  # type: ignore[index]
        assert labels.channel_label("sms") == "短讯"
        assert labels.channel_label("outbound_call") == "外呼"
        assert labels.channel_label("hotline") == "热线"  # a contact channel: no entry
        assert labels.channels_listed(["email", "wecom"]) == "邮件、wecom"
    with console.app.test_request_context(headers={"Accept-Language": "en"}):
        assert labels.channel_label("sms") == "Text"
        assert labels.channel_label("outbound_call") == "outbound call"
