"""Run a generator in a child Python process and stream its items back, so a producer (say,
CSV parsing) and a consumer (database writes) use two cores at once.

The child is a plain `python -m adapters.intake.background` subprocess rather than multiprocessing:
it neither forks a process that may have threads nor re-imports the caller's `__main__`.
The job goes in on stdin; items come back on stdout as length-prefixed pickles. The pipe
is widened to 1 MiB where Linux allows, so the child can run a few items ahead.
"""

from __future__ import annotations

import fcntl
import gc
import importlib
import io
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Generator
from contextlib import suppress
from typing import IO, Any

from engine.errors import ValidationError

_LENGTH = struct.Struct("<Q")
PIPE_BYTES = 1 << 20


def stream_from_child(target: str, *args: Any) -> Generator[Any, None, None]:
    """Items of `module:function(*args)` computed in a child; its ValidationError re-raised."""
    child = subprocess.Popen([sys.executable, "-m", "adapters.intake.background"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    _widen(child.stdout)
    try:
        child.stdin.write(pickle.dumps((target, args)))
        child.stdin.close()
        while True:
            kind, payload = _read(child.stdout)
            if kind == "item":
                yield payload
            elif kind == "done":
                return
            elif kind == "invalid":
                raise ValidationError(payload)
            else:
                raise RuntimeError(f"{target} failed in a child process:\n{payload}")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def _widen(pipe: IO[bytes]) -> None:
    """Let the child run several items ahead (Linux pipes hold 64 KiB by default), so the two
    sides do not wait on each other whenever one item takes longer than the next."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep the default
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _read(stream: IO[bytes]) -> tuple[str, Any]:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return "crashed", "the child process ended without an answer"
    message: tuple[str, Any] = pickle.loads(stream.read(_LENGTH.unpack(header)[0]))
    return message


def _write(stream: IO[bytes], kind: str, payload: Any) -> None:
    """Pickle without the memo: items hold no shared or recursive objects, and skipping the
    bookkeeping for every string makes the hand-over markedly cheaper."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump((kind, payload))
    stream.write(_LENGTH.pack(buffer.tell()))
    stream.write(buffer.getbuffer())
    stream.flush()


def _serve() -> None:
    gc.disable()  # producers here make short-lived data without cycles; the process is short
    out = sys.stdout.buffer
    try:
        target, args = pickle.loads(sys.stdin.buffer.read())
        module, function = target.split(":")
        for item in getattr(importlib.import_module(module), function)(*args):
            _write(out, "item", item)
        _write(out, "done", None)
    except ValidationError as exc:
        _write(out, "invalid", exc.problems)
    except Exception:  # handed to the parent, which raises it
        _write(out, "crashed", traceback.format_exc())


if __name__ == "__main__":
    _serve()
