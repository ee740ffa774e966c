"""A real `tend serve` on loopback driven as its users drive it, for end-to-end tests: the CLI
in child processes and the HTTP API with a user's token, on the shipped config and workflows."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.clock import run_tend, tend_child
from support.server import serving

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Tend:
    base: str
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`tend ARGS`, however it ends (for a refusal a test expects)."""
        return tend_child(self.env, self.cwd, *args)

    def cli(self, *args: str) -> str:
        return run_tend(self.env, self.cwd, *args)

    def user(self, name: str, *roles: str) -> str:
        flags = [part for role in roles for part in ("--role", role)]
        return self.cli("users", "add", name, *flags).strip().splitlines()[-1]

    def http(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())


def operator_env(db_url: str, rules: Path = ROOT / "rules") -> dict[str, str]:
    """The variables an operator sets for a `tend` process: the database, the shipped
    config.yaml and workflows, and the playbooks of `rules`."""
    return {**os.environ, "TEND_DATABASE_URL": db_url, "TEND_CONFIG": str(ROOT / "config.yaml"),
            "TEND_RULES": str(rules), "TEND_WORKFLOWS": str(ROOT / "workflows")}


@contextmanager
def tend_served(db_url: str, cwd: Path, *, workers: int,
                rules: Path = ROOT / "rules") -> Iterator[Tend]:
    """`tend serve` on `db_url` with the shipped config.yaml and workflows and the playbooks of
    `rules`, configured as an operator would (variables); stopped when the block ends."""
    env = operator_env(db_url, rules)
    with serving(env, cwd, workers=workers) as base:
        yield Tend(base, env, cwd)
