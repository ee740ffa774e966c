"""The console's languages (English, Simplified Chinese) and how it writes dates and numbers.

The language is the one chosen with the switch (kept in the session), else the browser's
Accept-Language, else TEND_LOCALE (default en). Times are shown in config.yaml's timezone,
whoever looks at them: a deadline means the same hour to every approver.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import (
    Babel,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_time,
    format_timedelta,
    get_locale,
)
from flask_babel import lazy_gettext as _l

from adapters.http.state import state
from engine.config import Config
from engine.measurement import units

LANGUAGES = {"en": "English", "zh": "中文"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# Ticket, task and decision states and selection groups as people read them (the API keeps
# the codes).
STATE_LABELS = {
    "planned": _l("planned"), "approved": _l("approved"), "executing": _l("executing"),
    "evaluating": _l("evaluating"), "closed": _l("closed"), "rejected": _l("rejected"),
    "cancelled": _l("cancelled"), "pending": _l("pending"), "leased": _l("leased"),
    "pushed": _l("pushed"), "delivered": _l("delivered"), "failed": _l("failed"),
    "no_answer": _l("no answer"), "connected": _l("connected"), "accepted": _l("accepted"),
    "declined": _l("declined"), "converted": _l("converted"), "dead": _l("dead"),
    "suppressed": _l("suppressed"),
    "presented": _l("presented"), "interested": _l("interested"), "handled": _l("handled"),
    "referred": _l("referred"),
    "treatment": _l("treatment"), "control": _l("control"), "not matched": _l("not matched"),
}

# Why the contact policy holds a channel back (engine.tasks.policy), on the customer's page.
REASON_LABELS = {
    "opted_out": _l("opted out"), "quiet_hours": _l("quiet hours"),
    "capacity": _l("channel full today"), "frequency_cap": _l("contacted often enough"),
}


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or os.environ.get("TEND_LOCALE", "en")


def setup(app: Flask, config: Config) -> None:
    Babel(app, locale_selector=select_locale,
          default_locale=os.environ.get("TEND_LOCALE", "en"),
          default_timezone=config.timezone.key,
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.filters.update(when=when, day=day, num=num, pct=pct, due=due,
                                 pts=pts, relative=units.relative)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_lang=lambda: str(get_locale()),
                                 state_label=state_label,
                                 reason_label=reason_label)


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def reason_label(reason: str | None) -> str:
    return "" if reason is None else str(REASON_LABELS.get(reason, reason))


def _instant(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value if isinstance(value, dt.datetime) else None


def when(value: Any, width: str = "medium") -> str:
    """An instant (ISO text or datetime) in the configured timezone and the reader's
    language; an empty cell for none. `short`: date and minutes, the year spelled out."""
    found = _instant(value)
    if found is None:
        return ""
    if width == "short":
        return f"{format_date(found, 'medium')} {format_time(found, 'short')}"
    return format_datetime(found, width)


def day(value: Any) -> str:
    found = _instant(value)
    return "" if found is None else format_datetime(found, "yyyy-MM-dd")


def num(value: Any) -> str:
    return "" if value is None else format_decimal(value)


def pct(value: Any) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


def pts(value: Any) -> str:
    """An absolute uplift in the reader's language: "+3.2 pts", "+3.2 个百分点"
    (engine.measurement.units: absolute in points, relative in percent, everywhere)."""
    language = get_locale()
    return units.pts(value, language.language if language else "en")


def due(value: Any) -> str:
    """How far a deadline is from now, in words ("in 3 hours", "2 days ago")."""
    found = _instant(value)
    if found is None:
        return ""
    return format_timedelta(found - state().now(), add_direction=True,
                            granularity="minute", threshold=1.5)
