"""The report a director opens: an evaluated ticket's page, fetched from a real `tend serve` on
loopback, shown in headless Chromium with its charts loaded; the screenshot is kept in
var/screenshots/report.png for people to look at."""

from __future__ import annotations

import datetime as dt
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from support.browser import chromium, missing
from support.evaluated import run_ticket, seed_customers
from support.server import serving

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.db.migrate import upgrade
from engine.config import Config
from engine.library import load_library

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "var" / "screenshots" / "report.png"
CHARTS = ("chart-uplift", "chart-timeline", "chart-funnel")

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    with chromium(tmp_path / "chromium-profile") as driver:
        driver.set_page_load_timeout(30)
        yield driver


@pytest.fixture
def served_report(tmp_path: Path, config: Config) -> Iterator[Path]:
    """An evaluated win-back ticket's report as `GET /tickets/<id>/report` returns it."""
    url = f"sqlite:///{tmp_path / 'tend.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        seed_customers(engine, 600)
        ticket_id = run_ticket(engine, config, load_library(config))
        with engine.begin() as conn:
            token = add_user(conn, "dora", ["director"], dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    env = {**os.environ, "TEND_DATABASE_URL": url, "TEND_CONFIG": str(ROOT / "config.yaml"),
           "TEND_RULES": str(ROOT / "rules"), "TEND_WORKFLOWS": str(ROOT / "workflows")}
    with serving(env, tmp_path) as base:
        request = urllib.request.Request(f"{base}/tickets/{ticket_id}/report",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert reply.headers.get_content_type() == "text/html"
            page = reply.read()
    target = tmp_path / "report.html"
    target.write_bytes(page)
    yield target


def test_the_report_shows_its_charts_in_a_browser(browser: WebDriver,
                                                  served_report: Path) -> None:
    browser.get(served_report.as_uri())
    widths = browser.execute_script(
        "return arguments[0].map(id => { const img = document.getElementById(id);"
        " return img && img.complete ? img.naturalWidth : 0; });", list(CHARTS))
    assert all(width > 0 for width in widths), dict(zip(CHARTS, widths, strict=True))
    assert "significant" in browser.find_element("css selector", ".verdict").text
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1100, min(int(height) + 160, 8000))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
