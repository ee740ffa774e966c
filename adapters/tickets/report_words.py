"""The language a ticket's report is written in: the reader's, as on the console's pages.

The report's sentences are msgids of the console's catalog (adapters/http/console/translations;
`pybabel extract` reads adapters/tickets too, docs/CONSOLE.md), but this package may not import
the web app: the caller hands over its translations (flask-babel's for a request, a loaded
catalog for the CLI) and how it words a channel. Without them the report is in English.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from engine.measurement import units


def _(text: str) -> str:
    """Marks a msgid for `pybabel extract`; the words are looked up when a report is drawn."""
    return text


# Codes the report shows, as people read them. CHANNELS and ROLES are the console's too
# (adapters/http/console/labels.py words them with these msgids).
CHANNELS = {  # the shipped channels and contact channels of config.yaml
    "sms": _("SMS"), "outbound_call": _("outbound call"), "email": _("email"),
    "push": _("push notification"), "store": _("store"),
    "account_manager": _("account manager"), "hotline": _("hotline"), "online": _("online"),
}
ROLES = {
    "campaign_lead": _("campaign lead"), "director": _("marketing director"),
    "designer": _("designer"), "admin": _("administrator"), "viewer": _("viewer"),
    "adapter": _("channel adapter"), "manager": _("account manager"), "agent": _("agent"),
    "system": _("system"), "planner": _("planner"), "scheduler": _("scheduler"),
}
STATES = {
    "planned": _("planned"), "approved": _("approved"), "executing": _("executing"),
    "evaluating": _("evaluating"), "closed": _("closed"), "rejected": _("rejected"),
    "cancelled": _("cancelled"), "treatment": _("treatment"), "control": _("control"),
}
VERDICTS = {
    "significant": _("significant"), "not significant": _("not significant"),
    "too small to tell": _("too small to tell"),
}
FUNNEL_STAGES = {  # engine.measurement.kpi.FUNNEL
    "tasks": _("tasks"), "sent": _("sent"), "delivered": _("delivered"),
    "connected": _("connected"), "accepted": _("accepted"), "converted": _("converted"),
}
ACTIONS = {
    "plan": _("created the ticket"), "approve_level": _("approved a level"),
    "approve": _("approved"), "reject": _("rejected"), "cancel": _("cancelled"),
    "supersede": _("superseded"), "escalate": _("escalated (deadline passed)"),
    "start": _("started executing"), "evaluate": _("started evaluating"), "close": _("closed"),
}

# The heads and note of the offers table (adapters/evaluation/offer_kpis.table), by their
# English.
OFFER_TABLE = {text: text for text in (
    _("offer / channel"), _("presented"), _("interest"), _("declined"), _("handled"),
    _("referred"), _("contacts"), _("cost"),
    _("customers per outcome (share of presented); contacts: every one recorded"))}


@dataclass(frozen=True)
class Words:
    """`language` (`en`, `zh`), the catalog to look sentences up in, and how channels and
    roles read in that language (the console's labels; their names without one)."""

    language: str = "en"
    translations: Any = field(default_factory=gettext_module.NullTranslations)
    # config.yaml's `label: {zh, en}` by channel (engine.tasks.channel.Channel.label)
    channel_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def channel(self, name: str) -> str:
        """A channel as people read it: its config label in this language, else the shipped
        name's words, else its name."""
        label = (self.channel_labels.get(name) or {}).get(self.language)
        return label or self.code(CHANNELS, name)

    def role(self, role: str | None) -> str:
        """`manager:m007` reads "account manager m007" (客户经理 m007)."""
        base, _sep, bound = (role or "").partition(":")
        named = self.code(ROLES, base)
        return f"{named} {bound}" if bound else named

    def gettext(self, text: str, **params: Any) -> str:
        """`text` in the report's language, `%(name)s` filled from `params`."""
        found = str(self.translations.gettext(text))
        return found % params if params else found

    def pgettext(self, context: str, text: str) -> str:
        """`text` as the catalog words it in `context`, where one English word means two
        things (`planned`, a state and the row of when a ticket was planned)."""
        return str(self.translations.pgettext(context, text))

    def markup(self, text: str, **params: Any) -> Markup:
        """For the template (autoescaped): the catalog's text is trusted, the values are
        escaped unless already markup (`<b>` around a figure)."""
        found = Markup(str(self.translations.gettext(text)))
        return found % {k: v if isinstance(v, Markup) else escape(v)
                        for k, v in params.items()} if params else found

    def ngettext(self, one: str, many: str, n: int, **params: Any) -> Markup:
        found = Markup(str(self.translations.ngettext(one, many, n)))
        return found % {"num": n, **{k: escape(v) for k, v in params.items()}}

    def code(self, table: Mapping[str, str], value: Any) -> str:
        """A code of `table` in words; a code it does not know as itself."""
        text = table.get(str(value))
        return self.gettext(text) if text else str(value if value is not None else "")

    def channels(self, names: Any) -> str:
        """Channels as a list people read: `短信、外呼`."""
        return self.gettext(", ").join(self.channel(str(n)) for n in names or ())

    def pts(self, value: float | None) -> str:
        return units.pts(value, self.language)

    def interval_pts(self, low: float | None, high: float | None) -> str:
        return units.interval_pts(low, high, self.language)


ENGLISH = Words()
