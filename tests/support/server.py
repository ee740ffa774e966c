"""A real `tend serve` (gunicorn) on a free 127.0.0.1 port, for end-to-end tests and benches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from support.clock import child_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(env: Mapping[str, str], cwd: Path, workers: int = 1,
            startup_seconds: float = 90, log: Path | None = None) -> Iterator[str]:
    """The server's base URL once /healthz answers; the server is stopped when the block ends.

    `startup_seconds` is a wait, not a check: gunicorn and its workers importing the app took
    over 30 s once on a 2-core machine loaded by other test runs. A server that exits is
    reported at once, whatever the wait.

    `log` keeps the server's output (for a benchmark to show when it fails).
    """
    port = free_port()
    with log.open("wb") if log else open(os.devnull, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workers", str(workers)], env=child_env(env), cwd=cwd,
            stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None:
                tail = log.read_text()[-3000:] if log else ""
                raise RuntimeError(f"tend serve exited with {process.returncode}\n{tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"tend serve did not answer within {startup_seconds}s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
