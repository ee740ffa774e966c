"""A real `tend serve` (gunicorn) on a free port over a SQLite file, spoken to over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.served import operator_env
from support.server import serving

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'tend.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        token = add_user(conn, "ops", ["viewer"], dt.datetime.now(dt.UTC))
    engine.dispose()
    env = operator_env(url)
    with serving(env, tmp_path) as base:
        yield base, token


def test_served_api(server: tuple[str, str]) -> None:
    base, token = server
    assert _get(base + "/healthz") == (200, {"status": "ok"})
    status, spec = _get(base + "/openapi.json")
    assert status == 200 and "/playbooks" in spec["paths"]
    assert _get(base + "/playbooks")[0] == 401
    status, playbooks = _get(base + "/playbooks", token)
    assert status == 200 and "winback" in [p["id"] for p in playbooks["items"]]


def test_gunicorn_workers_share_the_installation_key(tmp_path: Path) -> None:
    """No TEND_SECRET_KEY: two workers make or read one key file, so a session made by one
    is honoured by the other on every request."""
    import http.cookiejar
    import re
    import stat
    import urllib.parse

    url = f"sqlite:///{tmp_path / 'tend.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        token = add_user(conn, "vic", ["viewer"], dt.datetime.now(dt.UTC))
    engine.dispose()
    env = {name: value for name, value in os.environ.items()
           if name not in ("TEND_SECRET_KEY", "TEND_SECRET_KEY_FILE")}
    env.update(TEND_DATABASE_URL=url, TEND_CONFIG=str(ROOT / "config.yaml"),
               TEND_RULES=str(ROOT / "rules"), TEND_WORKFLOWS=str(ROOT / "workflows"))
    log = tmp_path / "server.log"
    with serving(env, tmp_path, workers=2, log=log) as base:
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(base + "/console/signin", timeout=10) as page:
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
        assert found
        form = urllib.parse.urlencode({"csrf_token": found.group(1), "token": token}).encode()
        with browser.open(base + "/console/signin", form, timeout=10) as signed_in:
            assert signed_in.url == base + "/console/"
        for _ in range(12):  # both workers answer some of these
            with browser.open(base + "/console/home", timeout=10) as reply:
                assert reply.url == base + "/console/"
    key = tmp_path / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    logged = log.read_text()
    assert f"secret key from {key}" in logged and key.read_text().strip() not in logged
