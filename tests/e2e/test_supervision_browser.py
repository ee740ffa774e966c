"""The supervision page in a real browser against a real `tend serve`, in English and
Chinese, at a desktop width and a phone's (390 px): the board with the warning row, a
manager's waiting tasks ticked and reassigned to another manager of the team. Nothing may
scroll sideways. Screenshots go to var/screenshots/ (`<lang>-supervision-1280.png`,
`<lang>-supervision-390.png`)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from support.browser import chromium, click, missing, screenshot, sign_in, widths
from support.clock import child_env
from support.served import operator_env
from support.server import serving

from adapters.db.schema import tasks

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
TEXT = {"en-US": {"title": "Supervision", "warn": "too many overdue",
                  "done": "3 tasks reassigned to Manager m02."},
        "zh-CN": {"title": "督办", "warn": "超时过多",
                  "done": "已将 3 个任务转派给 客户经理 m02。"}}

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@dataclass
class Site:
    base: str
    token: str


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    """m01 has 12 tasks three days late (the warning is at 10), m02 one due now."""
    env = operator_env(sqlite_url)
    now = dt.datetime.now(dt.UTC)
    late = now - dt.timedelta(days=3)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(tasks.insert(), [
            {"ticket_id": 1, "entry_id": n, "customer_id": f"客户{n:02d}",
             "step": "care_call", "channel": "account_manager",
             "route": f"manager:{'m01' if n <= 12 else 'm02'}", "state": "pending",
             "idempotency_key": f"{n}:care_call", "due_at": late if n <= 12 else now,
             "payload": {"template": "t"}, "created_at": late, "updated_at": late}
            for n in range(1, 14)])
    engine.dispose()
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "users", "add", "sue",
                           "--role", "supervisor:north"], env=child_env(env), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with serving(env, tmp_path, workers=1) as base:
        yield Site(base, done.stdout.splitlines()[-1])


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_supervision_at_desktop_and_phone_width(site: Site, tmp_path: Path,
                                                language: str) -> None:
    text, lang = TEXT[language], language[:2]
    with chromium(tmp_path / "profile", language) as driver:
        driver.set_window_size(1280, 900)
        sign_in(driver, site.base, site.token, "sue")
        driver.get(site.base + "/console/supervision")
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith(text["title"])
        warned = driver.find_element(By.CSS_SELECTOR, "tr[data-manager=m01]")
        assert text["warn"] in warned.text
        screenshot(driver, SHOTS / f"{lang}-supervision-1280.png")
        driver.set_window_size(390, 844)
        driver.refresh()
        scroll, client = widths(driver)
        assert scroll <= client <= 390, (scroll, client)
        screenshot(driver, SHOTS / f"{lang}-supervision-390.png")

        click(driver, "tr[data-manager=m01] a")
        boxes = driver.find_elements(By.CSS_SELECTOR, "#queue input[name=task]")
        assert len(boxes) == 12
        for box in boxes[:3]:
            driver.execute_script("arguments[0].click()", box)
        Select(driver.find_element(By.ID, "target")).select_by_value("manager:m02")
        scroll, client = widths(driver)
        assert scroll <= client <= 390, (scroll, client)
        screenshot(driver, SHOTS / f"{lang}-supervision-queue-390.png")
        click(driver, "#reassign button[type=submit]")
        assert text["done"] in driver.find_element(By.CLASS_NAME, "flash").text
        assert len(driver.find_elements(By.CSS_SELECTOR, "#queue input[name=task]")) == 9
