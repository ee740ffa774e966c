"""The console's Program page (整体效果): the menu links it, it shows both arms, the uplift in
points with its interval and the cost, with its charts inline, in English and Chinese; a bad
period is an error page naming the parameter, never a 500."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.program_seed import seed

from adapters.access.users import add_user
from adapters.http.app import create_app
from adapters.http.state import State
from engine.clock import Clock
from engine.config import Config

PATH = "/console/program?from=2026-11-01&to=2026-12-01"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def app(db_url: str, config: Config, clock: Clock) -> Iterator[tuple[Flask, dict[str, str]]]:
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True,
                      "CLOCK": clock})
    state: State = app.extensions["tend"]
    seed(state.engine)
    with state.engine.begin() as conn:
        tokens = {role: add_user(conn, role, [role], clock()) for role in ("viewer", "adapter")}
    yield app, tokens
    state.dispose()


def _signed_in(app: Flask, token: str, language: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/console/signin").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    reply = client.post("/console/signin", data={"token": token, "csrf_token": csrf.group(1)})
    assert reply.status_code == 303
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _charts(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in
            re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Program against the global control", ">Program</a>", "-8.3 pts",
            "too small to tell", "per incremental conversion", "102.55", "global control"]),
    ("zh-CN", ["整体效果", ">整体效果</a>", "-8.3 个百分点", "样本太少", "每个增量转化成本",
               "102.55", "全局对照组"]),
])
def test_the_page_shows_the_arms_effect_and_cost_with_charts(
        app: tuple[Flask, dict[str, str]], language: str, words: list[str]) -> None:
    flask_app, tokens = app
    reply = _signed_in(flask_app, tokens["viewer"], language).get(PATH)
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert 'id="chart-effect"' in page and 'id="chart-playbooks"' in page
    charts = _charts(page)
    assert len(charts) == 2 and all(png.startswith(PNG) for png in charts)


def test_without_a_period_it_shows_the_quarter_up_to_today(
        app: tuple[Flask, dict[str, str]]) -> None:
    flask_app, tokens = app
    page = _signed_in(flask_app, tokens["viewer"], "en").get("/console/program")
    assert page.status_code == 200
    assert 'name="from" value="' in page.get_data(as_text=True)


@pytest.mark.parametrize(("query", "names"), [
    ("from=2026-12-01&to=2026-11-01", "to"), ("from=2026-11-31&to=2026-12-01", "from"),
    ("to=2026-12-01", "from"), ("from=2026-11-01&to=2026-12-01&by=x", "by")])
def test_a_bad_period_is_an_error_page_naming_it(app: tuple[Flask, dict[str, str]], query: str,
                                                 names: str) -> None:
    flask_app, tokens = app
    reply = _signed_in(flask_app, tokens["viewer"], "en").get(f"/console/program?{query}")
    assert reply.status_code == 400
    assert names in reply.get_data(as_text=True)


def test_an_adapter_may_not_read_it(app: tuple[Flask, dict[str, str]]) -> None:
    flask_app, tokens = app
    assert _signed_in(flask_app, tokens["adapter"], "en").get(PATH).status_code == 403
