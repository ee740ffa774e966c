"""An app on a migrated database with one user per role, for the HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.access.users import add_user
from adapters.http.app import create_app
from adapters.http.state import State
from engine.clock import Clock
from engine.config import Config

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("viewer", "designer", "campaign_lead", "director", "admin", "adapter:sms",
         "manager:m01")


@dataclass
class Api:
    app: Flask
    client: FlaskClient
    tokens: dict[str, str]

    def call(self, method: str, path: str, role: str | None = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture
def api(db_url: str, config: Config, clock: Clock) -> Iterator[Api]:
    app = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True,
                      "CLOCK": clock})
    state: State = app.extensions["tend"]
    with state.engine.begin() as conn:
        now = clock()
        tokens = {role: add_user(conn, role.replace(":", "_"), [role], now) for role in ROLES}
    yield Api(app, app.test_client(), tokens)
    state.dispose()
