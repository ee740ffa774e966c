"""The key that signs the console's session cookies.

There is no built-in default: a key written in the source would let anyone who reads it forge
an admin session. `TEND_SECRET_KEY` wins when set; otherwise each installation makes its own
random key once and keeps it with its data, in a file only its owner may read (0600):
`TEND_SECRET_KEY_FILE` if set, else `secret_key` beside the SQLite database file, else
`var/secret_key` (PostgreSQL). Every gunicorn worker and every restart reads the same file, so
sessions survive restarts and are valid in every worker.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from engine.errors import TendError

FILE_NAME = "secret_key"
MIN_LENGTH = 32
log = structlog.get_logger("tend.http")


def key_path(database_url: str) -> Path:
    """Where this installation keeps its key when the environment gives none."""
    named = os.environ.get("TEND_SECRET_KEY_FILE")
    if named:
        return Path(named)
    if database_url.startswith("sqlite"):
        database = make_url(database_url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            return Path(database).resolve().parent / FILE_NAME
    return Path("var") / FILE_NAME


def secret_key(database_url: str) -> str:
    """TEND_SECRET_KEY, else the installation's key file (made on first use). The log line
    says which, never the key itself."""
    given = os.environ.get("TEND_SECRET_KEY")
    if given:
        log.info("secret key from TEND_SECRET_KEY")
        return given
    path = key_path(database_url)
    key = read_or_make(path)
    log.info(f"secret key from {path}")
    return key


def check_key(database_url: str) -> None:
    """For `tend serve`, before gunicorn forks: a key file that cannot be made or read is a
    message and exit code 1, not workers failing to boot one after another."""
    if not os.environ.get("TEND_SECRET_KEY"):
        read_or_make(key_path(database_url))


def read_or_make(path: Path) -> str:
    """The key in `path`, written first if there is none.

    Workers starting together race to make it: each writes its own candidate to a private
    temporary file and links it into place, which succeeds for exactly one of them; the
    others read the winner's key."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(48) + "\n")
                with suppress(FileExistsError):  # another worker made it first: its key wins
                    os.link(candidate, path)
            finally:
                candidate.unlink(missing_ok=True)
        except OSError as exc:
            raise TendError(f"secret key: cannot create {path}: {exc.strerror} (set "
                            "TEND_SECRET_KEY, or TEND_SECRET_KEY_FILE to a writable "
                            "path)") from None
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise TendError(f"secret key: cannot read {path}: {exc.strerror}") from None
    if len(key) < MIN_LENGTH:
        raise TendError(f"secret key: {path} holds fewer than {MIN_LENGTH} characters; "
                        "delete it to have a new key made (this signs everyone out)")
    return key
