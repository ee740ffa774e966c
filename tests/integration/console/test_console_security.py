"""Console security on SQLite and PostgreSQL: no published signing key, sign-in throttling
shared by every worker, sign-out that revokes the cookie, and a `next` that cannot break or
redirect the sign-in."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from test_console import Browser, Console, console

import adapters
from adapters.access.signins import Limits
from adapters.http.app import create_app
from engine.config import Config

__all__ = ["console"]
OLD_DEV_KEY = "tend-dev-secret-key-not-for-production"  # published in earlier sources
PASSWORD = "correct horse battery"  # lena's, set by the console fixture


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at


def _throttled(console: Console, account: int = 3, address: int = 5) -> Clock:
    clock = Clock()
    console.app.extensions["tend"].clock = clock
    console.app.config.update(CONSOLE_SIGNIN_LIMITS=Limits(
        account=account, address=address, window=dt.timedelta(minutes=15)))
    return clock


def test_no_signing_key_is_written_in_the_source() -> None:
    sources = Path(adapters.__file__).resolve().parent.rglob("*.py")
    assert not [p for p in sources if OLD_DEV_KEY in p.read_text()]


def test_apps_of_one_installation_share_a_generated_owner_only_key(
        sqlite_url: str, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TEND_SECRET_KEY", raising=False)
    monkeypatch.delenv("TEND_SECRET_KEY_FILE", raising=False)
    first = create_app({"TEND_CONFIG": config, "DATABASE_URL": sqlite_url})
    second = create_app({"TEND_CONFIG": config, "DATABASE_URL": sqlite_url})
    path = tmp_path / "secret_key"  # beside the SQLite file
    assert first.secret_key == second.secret_key == path.read_text().strip()
    assert len(str(first.secret_key)) >= 32 and first.secret_key != OLD_DEV_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logged = capsys.readouterr().err
    assert f"secret key from {path}" in logged and str(first.secret_key) not in logged
    monkeypatch.setenv("TEND_SECRET_KEY", "k" * 40)
    assert create_app({"TEND_CONFIG": config, "DATABASE_URL": sqlite_url}).secret_key == "k" * 40
    assert "secret key from TEND_SECRET_KEY" in capsys.readouterr().err


def test_an_unusable_key_file_is_a_clear_error(sqlite_url: str, config: Config, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEND_SECRET_KEY", raising=False)
    monkeypatch.setenv("TEND_SECRET_KEY_FILE", str(tmp_path / "short"))
    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(adapters.http.secret_key.TendError, match="short holds fewer"):
        create_app({"TEND_CONFIG": config, "DATABASE_URL": sqlite_url})


def _resigned(console: Console, key: str) -> str:
    """root's live session contents, signed with `key`."""
    root = console.browser("root")
    with root.client.session_transaction() as session:
        contents = dict(session)
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return str(serializer.dumps(contents))


def test_a_cookie_signed_with_the_old_published_key_is_refused(console: Console) -> None:
    forged = console.browser()
    forged.client.set_cookie("tend_session", _resigned(console, OLD_DEV_KEY))
    assert forged.get("/console/home").status_code == 302
    genuine = console.browser()
    genuine.client.set_cookie("tend_session", _resigned(console, str(console.app.secret_key)))
    assert genuine.get("/console/home").location == "/console/"  # the same, rightly signed


def test_wrong_passwords_block_the_account_even_for_the_right_one(console: Console) -> None:
    clock = _throttled(console, account=3, address=50)
    for _ in range(3):
        assert console.browser().sign_in(name="lena", password="wrong!").status_code == 401
    refused = console.browser().sign_in(name="LENA", password=PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert "Too many failed sign-ins. Try again in 15 min." in refused.get_data(as_text=True)
    zh = console.browser(**{"Accept-Language": "zh-CN"}).sign_in(name="lena", password=PASSWORD)
    assert zh.status_code == 429 and "登录失败次数过多" in zh.get_data(as_text=True)
    assert console.browser().sign_in(name="pat", password="wrong!").status_code == 401
    clock.at += dt.timedelta(minutes=15)
    assert console.browser().sign_in(name="lena", password=PASSWORD).status_code == 303


def test_sixty_wrong_passwords_then_the_right_one_is_refused_by_default(
        console: Console) -> None:
    """The probe: 60 wrong passwords in 9 seconds, then the right one got in."""
    clock = Clock()
    console.app.extensions["tend"].clock = clock
    answers = []
    for _ in range(60):
        clock.at += dt.timedelta(seconds=0.15)
        answers.append(console.browser().sign_in(name="lena", password="guess").status_code)
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    assert console.browser().sign_in(name="lena", password=PASSWORD).status_code == 429


def test_failures_from_one_address_block_it_in_every_worker(
        console: Console, config: Config, db_url: str) -> None:
    clock = _throttled(console, account=50, address=5)
    other = create_app({"TEND_CONFIG": config, "DATABASE_URL": db_url, "TESTING": True,
                        "CLOCK": clock, "SECRET_KEY": console.app.secret_key,
                        "CONSOLE_SIGNIN_LIMITS": console.app.config["CONSOLE_SIGNIN_LIMITS"]})
    for name in ("a1", "a2", "a3"):
        assert console.browser().sign_in(name=name, password="guess").status_code == 401
    for token in ("t1", "t2"):  # another worker of the same installation counts too
        assert Browser(other.test_client(), {}).sign_in(token=token).status_code == 401
    elsewhere = console.browser()
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert elsewhere.sign_in(name="lena", password=PASSWORD).status_code == 303
    assert console.browser().sign_in(token=console.tokens["vic"]).status_code == 429
    other.extensions["tend"].dispose()


def test_signing_out_revokes_a_copied_cookie(console: Console) -> None:
    lena = console.browser("lena")
    copied = lena.client.get_cookie("tend_session")
    assert copied is not None
    thief = console.browser()
    thief.client.set_cookie("tend_session", copied.value)
    assert thief.get("/console/home").status_code == 302
    assert thief.get("/console/home").location == "/console/"
    assert lena.post("/console/signout").status_code == 303
    thief.client.set_cookie("tend_session", copied.value)
    reply = thief.get("/console/home")
    assert reply.status_code == 302 and reply.location.startswith("/console/signin")


@pytest.mark.parametrize("target", ["/console/\r\nSet-Cookie: x=1", "/console/\nx",
                                    "/console\\\\evil", "/console/%0d%0a", "https://evil.example/console",
                                    "/consoleevil", "\x00/console/"])
def test_an_unsafe_next_is_ignored_never_a_500(console: Console, target: str) -> None:
    reply = console.browser().post("/console/signin", {"token": console.tokens["vic"],
                                                       "next": target})
    assert reply.status_code == 303
    assert reply.location in ("/console/home", "/console/%0d%0a")
    vic = console.browser("vic")
    assert vic.client.get("/console/signin", query_string={"next": target}).status_code == 302


def test_serve_refuses_an_unusable_key_file_before_starting(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from adapters.cli import main

    monkeypatch.delenv("TEND_SECRET_KEY", raising=False)
    (tmp_path / "short").write_text("abc\n")
    result = CliRunner().invoke(main, ["serve"], env={
        "TEND_DATABASE_URL": sqlite_url, "TEND_SECRET_KEY_FILE": str(tmp_path / "short")})
    assert result.exit_code == 1 and "short holds fewer than 32 characters" in result.output


def test_failures_of_past_windows_are_dropped(console: Console) -> None:
    import sqlalchemy as sa

    from adapters.db.schema import signin_failures

    clock = _throttled(console)
    for name in ("g1", "g2", "g3"):
        console.browser().sign_in(name=name, password="guess")
    clock.at += dt.timedelta(minutes=16)
    console.browser().sign_in(name="g4", password="guess")
    with console.state.engine.connect() as conn:
        keys = set(conn.scalars(sa.select(signin_failures.c.key)))
    assert keys == {"account:g4", "address:127.0.0.1"}
