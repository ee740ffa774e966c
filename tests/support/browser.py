"""Headless Chromium from Debian's packages, driven by Selenium, for the console's browser tests.

The driver is named in `Service(executable_path=...)`, so Selenium Manager is never asked to
find (or download) a browser or driver; each browser gets a fresh profile directory.
`scripts/ensure-chromium.sh` (run by `make test`) installs the packages when they are absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if absent:
        return (f"{' and '.join(absent)} absent: run scripts/ensure-chromium.sh (Debian packages "
                "chromium, chromium-driver, fonts-noto-cjk)")
    return None


@contextmanager
def chromium(profile: Path, language: str = "en-US") -> Iterator[WebDriver]:
    """A headless browser whose Accept-Language is `language`."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--lang={language}")
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page, not only the window: the window is stretched to the page first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(int(height) + 120, 800), 4000))
    driver.find_element(By.TAG_NAME, "body").screenshot(str(path))
    driver.set_window_size(width, 1000)
