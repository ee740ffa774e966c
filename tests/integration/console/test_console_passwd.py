"""`tend users passwd NAME`: a console password read from stdin, stored only as a salted
hash; too short or for nobody is exit 1 with a message, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from support.cli import run

from adapters.access.users import user_for_password
from adapters.db.engines import make_engine
from adapters.db.schema import users

ROOT = Path(__file__).resolve().parents[3]


def tend(db_url: str, *args: str, stdin: str = "") -> Result:
    return run(CliRunner(), *args, input=stdin, env={"TEND_DATABASE_URL": db_url})


def stored_hash(db_url: str) -> str | None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            found: str | None = conn.scalar(sa.select(users.c.password_hash))
            return found
    finally:
        engine.dispose()


@pytest.mark.parametrize("password", ["correct horse battery", "密码是很长的一句话好吗"])
def test_passwd_stores_a_salted_hash_that_signs_in(db_url: str, password: str) -> None:
    assert tend(db_url, "users", "add", "lena", "--role", "campaign_lead").exit_code == 0
    done = tend(db_url, "users", "passwd", "lena", stdin=password + "\n")
    assert done.exit_code == 0 and "password set for lena" in done.output
    digest = stored_hash(db_url)
    assert digest is not None and digest.startswith("scrypt:") and password not in digest
    engine = make_engine(db_url)
    with engine.connect() as conn:
        user = user_for_password(conn, "lena", password)
        assert user is not None and user.roles == {"campaign_lead"}
        assert user_for_password(conn, "lena", password + "x") is None
    engine.dispose()


def test_passwd_refuses_short_passwords_and_unknown_users(db_url: str) -> None:
    assert tend(db_url, "users", "add", "lena", "--role", "viewer").exit_code == 0
    short = tend(db_url, "users", "passwd", "lena", stdin="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    nobody = tend(db_url, "users", "passwd", "nobody", stdin="long enough password\n")
    assert nobody.exit_code == 1 and "no user 'nobody'" in nobody.output
    assert stored_hash(db_url) is None
