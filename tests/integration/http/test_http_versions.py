"""GET /playbooks/<id>/versions and the diff of two versions, as stored by planning tickets.

A designer plans winback v3, then edits the file to v4; the server restarts on the new
library (as a deploy would) and plans again, so both texts are stored.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support.folders import with_rules

from adapters.access.users import add_user
from adapters.db.engines import make_engine
from adapters.http.app import create_app
from engine.config import Config

ROOT = Path(__file__).resolve().parents[3]


class Server:
    def __init__(self, db_url: str, config: Config, tokens: dict[str, str]) -> None:
        self.db_url, self.config, self.tokens = db_url, config, tokens
        self.apps: list[Flask] = []

    def start(self) -> Flask:
        app = create_app({"TEND_CONFIG": self.config, "DATABASE_URL": self.db_url,
                          "TESTING": True})
        self.apps.append(app)
        return app

    def call(self, method: str, path: str, role: str | None = "viewer",
             **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.apps[-1].test_client().open(path, method=method, headers=headers,
                                                **kwargs)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(ROOT / "rules" / "winback.yaml", folder)
    shutil.copy(ROOT / "rules" / "welcome.yaml", folder)
    shutil.copytree(ROOT / "rules" / "offers", folder / "offers")  # winback names an offer
    return folder


@pytest.fixture
def server(db_url: str, config: Config, rules: Path) -> Iterator[Server]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        tokens = {role: add_user(conn, role.replace(":", "_"), [role], dt.datetime.now(dt.UTC))
                  for role in ("viewer", "designer", "manager:m01")}
    engine.dispose()
    found = Server(db_url, with_rules(config, rules), tokens)
    found.start()
    yield found
    for app in found.apps:
        app.extensions["tend"].dispose()


def test_two_planned_versions_are_listed_and_diffed(server: Server, rules: Path) -> None:
    first = server.call("POST", "/tickets", "designer",
                        json={"playbook": "winback", "at": "2026-11-20"})
    assert first.status_code == 201 and first.json["version"] == 3
    path = rules / "winback.yaml"
    path.write_text(path.read_text().replace("version: 3", "version: 4")
                    .replace("priority: 40", "priority: 45"))
    server.start()
    second = server.call("POST", "/tickets", "designer",
                         json={"playbook": "winback", "at": "2026-11-21"})
    assert second.status_code == 201 and second.json["version"] == 4

    listed = server.call("GET", "/playbooks/winback/versions")
    assert listed.status_code == 200
    items = listed.json["items"]
    assert [item["version"] for item in items] == [3, 4]
    assert [item["hash"] for item in items] == [first.json["playbook_hash"],
                                                second.json["playbook_hash"]]
    assert all(item["loaded_at"] for item in items)

    diff = server.call("GET", "/playbooks/winback/versions/3/diff/4")
    assert diff.status_code == 200
    assert (diff.json["playbook"], diff.json["from"], diff.json["to"]) == ("winback", 3, 4)
    lines = diff.json["diff"].splitlines()
    assert lines[:2] == ["--- winback@v3", "+++ winback@v4"]
    changed = {line for line in lines[2:] if line[:1] in "+-"}
    assert changed == {"-version: 3", "+version: 4", "-priority: 40", "+priority: 45"}
    rows = diff.json["rows"]  # the same change side by side
    assert {(r["old"], r["new"]) for r in rows if r["kind"] == "changed"} == {
        ("version: 3", "version: 4"), ("priority: 40", "priority: 45")}
    effect = diff.json["audience"]  # priority changes nobody's selection
    assert [e["version"] for e in effect] == [3, 4]
    assert effect[0]["matched"] == effect[1]["matched"]
    same = server.call("GET", "/playbooks/winback/versions/4/diff/4")
    assert same.status_code == 200 and same.json["diff"] == ""


def test_unknown_playbooks_and_versions_are_404_and_reading_needs_a_read_role(
        server: Server) -> None:
    assert server.call("GET", "/playbooks/welcome/versions").json == {
        "items": [], "next_cursor": None}  # installed, never planned
    for path in ("/playbooks/nope/versions", "/playbooks/nope/versions/1/diff/2",
                 "/playbooks/welcome/versions/1/diff/2"):
        missing = server.call("GET", path)
        assert missing.status_code == 404 and missing.json["message"], path
    assert server.call("GET", "/playbooks/winback/versions", role="manager:m01") \
        .status_code == 403
    assert server.call("GET", "/playbooks/winback/versions", role=None).status_code == 401
