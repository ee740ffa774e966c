"""How the console writes instants and numbers: in config.yaml's timezone whoever reads them,
in the reader's language (the switch first, then Accept-Language)."""

from __future__ import annotations

import datetime as dt

from flask import Flask, session

from adapters.http.console import i18n
from adapters.http.state import State
from engine.clock import FixedClock
from engine.config import Config

INSTANT = "2026-06-01T01:00:00+00:00"  # 09:00 in Asia/Shanghai


def app_for(config: Config) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"
    i18n.setup(app, config)
    return app


def test_instants_in_the_configured_timezone_and_the_readers_language(config: Config) -> None:
    app = app_for(config)
    with app.test_request_context(headers={"Accept-Language": "en-US,en;q=0.8"}):
        assert i18n.when(INSTANT, "short") == "Jun 1, 2026 9:00\u202fAM"  # CLDR: narrow space
        assert i18n.num(12345.5) == "12,345.5" and i18n.pct(0.0425) == "4.2%"
        assert i18n.when(None) == "" and i18n.pct(None) == "—"
    with app.test_request_context(headers={"Accept-Language": "zh-CN,zh;q=0.9"}):
        assert i18n.when(INSTANT, "short") == "2026年6月1日 09:00"
        naive_utc = dt.datetime(2026, 6, 1, 1, 0)
        assert i18n.when(naive_utc, "short") == "2026年6月1日 09:00"
        assert i18n.state_label("planned") == "待审批"
        assert i18n.state_label("something new") == "something new"


def test_the_switch_wins_over_the_browser(config: Config) -> None:
    app = app_for(config)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert i18n.select_locale() == "zh"
        session["lang"] = "en"
        assert i18n.select_locale() == "en"
    with app.test_request_context(headers={"Accept-Language": "fr-FR"}):
        assert i18n.select_locale() == "en"


def test_deadlines_read_as_distances(config: Config) -> None:
    """Measured from the app's clock, not the wall's."""
    app = app_for(config)
    now = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)
    app.extensions["tend"] = State(config, "sqlite://", FixedClock(now))
    past = (now - dt.timedelta(days=3)).isoformat()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.due(past) == "3 days ago"
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert i18n.due(past) == "3天前"
