"""`tend backup FILE` and `tend restore FILE`: a consistent copy of the whole database, and back.

A plain file copy of a live SQLite database can be torn (a page written mid-copy, the WAL
left behind), so SQLite uses its online backup API: one snapshot, read while writers go on
(WAL readers do not block them). PostgreSQL uses its own tools, `pg_dump -Fc` and
`pg_restore --clean --if-exists --single-transaction` (all or nothing), found on PATH or in
the newest /usr/lib/postgresql/*/bin (`TEND_PG_BIN` names another folder); the password goes
to them in PGPASSWORD, never on a command line others can read.

A backup holds every customer and every password hash, so its file is made owner-only
(0600). The console's secret key file is not in it (adapters/http/secret_key.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa

from engine.errors import TendError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def backup(url: str, file: Path, force: bool = False) -> str:
    """Write the database at `url` to `file`; what was done, in a sentence."""
    _check_target(file, force)
    partial = file.with_name(f".{file.name}.partial")
    try:
        if _is_sqlite(url):
            source = _sqlite_path(url, "backup")
            if not source.is_file():
                raise TendError(f"backup: no SQLite database at {source}")
            if source.resolve() == file.resolve():
                raise TendError(f"backup: {file} is the database itself; name another file")
            with closing(sqlite3.connect(source, timeout=30)) as src, \
                    closing(sqlite3.connect(partial)) as dst:
                src.backup(dst)  # one step: a single consistent snapshot
            partial.chmod(0o600)
        else:
            _pg_run("pg_dump", url, ["-Fc", "--no-owner", "-f", str(partial)], "backup")
            partial.chmod(0o600)
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return f"backed up to {file} ({file.stat().st_size} bytes)"


def restore(url: str, file: Path) -> str:
    """Replace the database at `url` with the backup in `file`."""
    if not file.is_file():
        raise TendError(f"restore: {file} is not a file")
    with file.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    kind = ("sqlite" if head == SQLITE_MAGIC else
            "postgresql" if head.startswith(PGDUMP_MAGIC) else None)
    if kind is None:
        raise TendError(f"restore: {file} is not a backup made by `tend backup` "
                        "(neither a SQLite database nor a pg_dump -Fc archive)")
    target = "sqlite" if _is_sqlite(url) else "postgresql"
    if kind != target:
        raise TendError(f"restore: {file} is a {kind} backup but the database is {target}; "
                        "restore it into a database of the same kind")
    if kind == "sqlite":
        revision = _sqlite_revision(file)
        path = _sqlite_path(url, "restore")
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(file)) as src, \
                closing(sqlite3.connect(path, timeout=30)) as dst:
            src.backup(dst)
        return f"restored {file} into {path} (schema revision {revision})"
    _pg_run("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                "--exit-on-error", str(file)], "restore")
    return f"restored {file} into the PostgreSQL database"


def _check_target(file: Path, force: bool) -> None:
    if file.is_dir():
        raise TendError(f"backup: {file} is a folder; name the file to write")
    if not file.parent.is_dir():
        raise TendError(f"backup: the folder {file.parent} does not exist")
    if file.exists() and not force:
        raise TendError(f"backup: {file} exists; pass --force to replace it")


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str, verb: str) -> Path:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise TendError(f"{verb}: {url} is not a SQLite database file")
    return Path(database)


def _sqlite_revision(file: Path) -> str:
    """The backup's schema revision, after SQLite's integrity check: a damaged or foreign file
    is refused before it replaces anything."""
    try:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchone()
            if not check or check[0] != "ok":
                raise TendError(f"restore: {file} is damaged: {check[0] if check else '?'}")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise TendError(f"restore: {file} is not a Tend database backup ({exc})") from None
    if not row:
        raise TendError(f"restore: {file} has no schema revision (alembic_version is empty)")
    return str(row[0])


def pg_tool(name: str) -> str:
    """`TEND_PG_BIN/<name>`, else PATH, else the newest Debian server's bin folder."""
    folder = os.environ.get("TEND_PG_BIN")
    found = (str(Path(folder) / name) if folder and (Path(folder) / name).is_file()
             else shutil.which(name))
    if found is None:
        installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                           key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                           else 0)
        found = installed[-1] if installed else None
    if found is None:
        raise TendError(f"{name} not found: install PostgreSQL's client tools, or set "
                        "TEND_PG_BIN to the folder holding it")
    return found


def _pg_run(tool: str, url: str, args: list[str], verb: str) -> None:
    parsed = sa.engine.make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    conninfo = plain.render_as_string(hide_password=False)
    done = subprocess.run([pg_tool(tool), "--dbname", conninfo, *args], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise TendError(f"{verb}: {tool} failed: {lines[-1] if lines else done.returncode}")
