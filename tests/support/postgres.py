"""A throwaway PostgreSQL server: initdb in a temporary folder, listening on 127.0.0.1.

Tests and benchmarks run against a real server (DESIGN section 8), started here from Debian's
binaries. initdb refuses to run as root, so as root the cluster belongs to the `postgres`
system user (or `nobody`), and initdb and the server are started as that user directly
(subprocess `user=`), so signals reach the server itself rather than a wrapper like runuser.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why, for a skip reason."""


def find_bindir() -> Path:
    """The newest installed server's bin folder (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                        else 0)
    for folder in reversed(candidates):
        if os.access(f"{folder}/initdb", os.X_OK) and os.access(f"{folder}/postgres", os.X_OK):
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).resolve().parent
    raise Unavailable("PostgreSQL server binaries (initdb, postgres) not found in "
                      "/usr/lib/postgresql/*/bin: run `bash scripts/ensure-postgres.sh` as root "
                      "to install Debian's postgresql package")


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for user in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(user)
        except KeyError:
            continue
    raise Unavailable("running as root and neither a 'postgres' nor a 'nobody' user exists "
                      "to own the cluster (initdb refuses to run as root)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One cluster in a temporary folder; `url(db)` connects as the superuser `postgres`.

    `root`: a folder to keep the cluster in instead, which `stop` leaves in place and
    `reopen` starts again later (a benchmark's database, built once and kept)."""

    def __init__(self, root: Path | None = None) -> None:
        self.bindir = find_bindir()
        self.user = _run_as()
        self.kept = root is not None
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="tend-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # Held while the server is halted, so background work (support.database_pool) waits
        # for `resume` instead of failing against a server that is down on purpose.
        self.running = threading.Lock()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        self.root.chmod(0o755)  # the server's user must reach its data folder
        self.data.mkdir(mode=0o700)
        self.log.touch()
        if self.user is not None:
            os.chown(self.data, self.user.pw_uid, self.user.pw_gid)
            os.chown(self.log, self.user.pw_uid, self.user.pw_gid)
        initdb = subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, check=False, **self._as_user())
        if initdb.returncode != 0:
            raise Unavailable(f"initdb failed: {initdb.stderr.strip() or initdb.stdout.strip()}")
        self._launch()
        return self

    def reopen(self) -> PostgresServer:
        """Start the cluster that `start` made in the kept `root` earlier, on a new port.
        Its files are given to the server's user first (a copy made as root belongs to
        root, and the server refuses a data folder it does not own, or one others can read).
        Unavailable, the cluster left as it is, when it does not start: the caller builds
        it again."""
        if not (self.data / "PG_VERSION").exists():
            raise Unavailable(f"no cluster in {self.data}")
        self.root.chmod(0o755)
        self.log.touch()
        if self.user is not None:
            for path in (self.log, self.data, *self.data.rglob("*")):
                os.chown(path, self.user.pw_uid, self.user.pw_gid, follow_symlinks=False)
        self.data.chmod(0o700)
        self._launch()
        return self

    def _launch(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data),
                 "-h", "127.0.0.1", "-p", str(self.port), "-k", "",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdout=log, stderr=subprocess.STDOUT, **self._as_user())
        self._wait_ready()

    def _as_user(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": [],
                "cwd": str(self.root), "env": {"PATH": os.environ.get("PATH", ""),
                                               "LC_ALL": "C.UTF-8"}}

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise Unavailable(f"PostgreSQL did not start on 127.0.0.1:{self.port}: {tail.strip()}")

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.encode())

    def halt(self) -> None:
        """Stop the server but keep its data, to be `resume`d: a database outage."""
        self.running.acquire()
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout=20)
        except BaseException:
            self.running.release()
            raise
        self.process = None

    def resume(self) -> None:
        try:
            self._launch()
        finally:
            self.running.release()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: disconnects any client
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if not self.kept:
            shutil.rmtree(self.root, ignore_errors=True)
