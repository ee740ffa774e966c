"""A real webhook receiver on 127.0.0.1 (http.server in a thread) for push-channel tests.

It records every request (idempotency key, signature header, body) and answers with the
statuses it was given, in order, per idempotency key; after the script, 200. Connections are
kept alive (HTTP/1.1), as a production receiver's would be.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    url: str
    script: Sequence[int]
    calls: list[tuple[str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status_for(self, key: str, signature: str, body: bytes) -> int:
        with self.lock:
            seen = sum(1 for k, _, _ in self.calls if k == key)
            self.calls.append((key, signature, body))
        return self.script[seen] if seen < len(self.script) else 200

    def keys(self, kind: str = "task") -> list[str]:
        """The idempotency keys of every request of this kind (task or cancel), in order."""
        with self.lock:
            return [key for key, _, body in self.calls if json.loads(body)["kind"] == kind]


@contextmanager
def receiving(script: Sequence[int] = (), delay: float = 0.0) -> Iterator[Receiver]:
    """A receiver answering `script` then 200 to each key, each answer `delay` seconds
    after the request (a gateway's own latency); stopped when the block ends."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(delay)
            status = holder[0].status_for(self.headers.get("Idempotency-Key", ""),
                                          self.headers.get("Tend-Signature", ""), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def signed(signature: str, body: bytes, secret: str) -> bool:
    """Whether a `Tend-Signature` header (`t=<unix time>,v1=<hex>`) signs `body` with `secret`,
    checked as a receiver would from the documented formula (docs/CHANNELS.md), not by
    calling tend's own signer: HMAC-SHA256 of "<t>." + body."""
    parts = dict(part.split("=", 1) for part in signature.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
