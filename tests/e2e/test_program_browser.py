"""The Program page (整体效果) in headless Chromium at a phone's width (390 px), in English
and Chinese, from a real `tend serve`: both charts load, nothing scrolls sideways, and the
screenshot is kept in var/screenshots/<lang>-program-390.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from support.browser import chromium, missing, screenshot, sign_in, widths
from support.program_seed import seed
from support.served import operator_env
from support.server import serving

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
TITLE = {"en-US": "Program against the global control", "zh-CN": "整体效果：与全局对照组对比"}

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'tend.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        seed(engine)
        with engine.begin() as conn:
            token = add_user(conn, "vic", ["viewer"], dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    env = operator_env(url)
    with serving(env, tmp_path) as base:
        yield base, token


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_the_program_page_fits_a_phone_with_its_charts(site: tuple[str, str], tmp_path: Path,
                                                       language: str) -> None:
    base, token = site
    with chromium(tmp_path / "profile", language) as driver:
        sign_in(driver, base, token, "vic")
        driver.set_window_size(390, 844)
        driver.get(f"{base}/console/program?from=2026-11-01&to=2026-12-01")
        assert driver.find_element(By.TAG_NAME, "h1").text == TITLE[language]
        loaded = driver.execute_script(
            "return ['chart-effect', 'chart-playbooks'].map(id => {"
            " const img = document.getElementById(id);"
            " return img && img.complete ? img.naturalWidth : 0; });")
        assert all(width > 0 for width in loaded), loaded
        scroll, client = widths(driver)
        assert scroll <= client <= 390, (scroll, client)
        screenshot(driver, SHOTS / f"{language[:2]}-program-390.png")
