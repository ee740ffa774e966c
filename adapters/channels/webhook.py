"""The `webhook` channel: a signed POST per task or cancel over a kept-alive connection (one per
thread). A 2xx is delivery; a 4xx other than 408/429 is the receiver refusing the task for good;
anything else (5xx, 408, 429, timeouts, refused connections, malformed answers) may pass on a
later attempt.

HTTP/1.1 is framed by h11 (a kept library: requests written, answers of every framing read to
their exact end, 1xx skipped, keep-alive decided); this module keeps only the sockets: a pool
of idle kept-alive connections, their timeouts and TLS. Why h11 rather than urllib3 or httpx
is measured in docs/CHANNELS.md ("The HTTP client")."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import h11
import orjson

from adapters.channels.base import (
    DELIVERED,
    REFUSED,
    RETRIED_4XX,
    RETRY,
    Outcome,
    Push,
    message,
    number,
    signature,
)
from engine.clock import Clock
from engine.errors import ValidationError


def webhook_push(channel: str, options: Mapping[str, Any], client: Client,
             clock: Clock) -> Push:
    """Options `url` (checked by Client), `secret_env` (the NAME of the variable holding
    the secret: config files get shared, secrets must not) and `timeout` (seconds, 10)."""
    url, secret_env = options["url"], options.get("secret_env")
    secret = os.environ.get(str(secret_env or ""))
    if not secret:
        raise ValidationError(f"the environment variable {secret_env!r} holding the webhook "
                              "secret is not set",
                              field=f"channels.{channel}.options.secret_env")

    def post(task: Mapping[str, Any], kind: str) -> Outcome:
        body = orjson.dumps(message(task, kind), option=orjson.OPT_SORT_KEYS, default=str)
        headers = {"Content-Type": "application/json",
                   "Idempotency-Key": task["idempotency_key"],
                   "Tend-Signature": signature(secret, body, int(clock().timestamp()))}
        try:
            status = client.post(body, headers)
        except (OSError, http.client.HTTPException, h11.ProtocolError) as exc:
            # refused, reset, timed out, closed early, or an answer that is not HTTP
            return Outcome(RETRY, f"{type(exc).__name__} from {url}: {exc}")
        if 200 <= status < 300:
            return Outcome(DELIVERED, f"HTTP {status}")
        refused = 400 <= status < 500 and status not in RETRIED_4XX
        return Outcome(REFUSED if refused else RETRY, f"HTTP {status} from {url}")

    return post


class Client:
    """POSTs to one URL over kept-alive connections, one per request in flight, reused:
    a new TCP (and TLS) handshake per task would cost more than the request itself.

    h11 frames each exchange; an answer framed by neither Content-Length nor chunked encoding
    is read to the end of its connection, which is then closed, as is any connection after an
    error or an answer h11 says the connection cannot outlive."""

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        url = options.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValidationError("expected an http(s) URL",
                                  field=f"channels.{channel}.options.url")
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = self.port == (443 if self.https else 80)
        self.fixed = [("Host", host if default else f"{host}:{self.port}"),
                      ("Accept-Encoding", "identity")]
        self.timeout = number(channel, options, "timeout", 10.0, float)
        self.lock = threading.Lock()
        self.idle: list[_Connection] = []

    def close(self) -> None:
        """Close the idle connections (those in use are kept until their request ends)."""
        with self.lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.sock.close()

    def post(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The answer's status; a kept connection the server has meanwhile closed is
        replaced once (a request sent twice carries one key), any other failure raises."""
        request = h11.Request(method="POST", target=self.target, headers=[
            *self.fixed, *headers.items(), ("Content-Length", str(len(body)))])
        with self.lock:
            conn = self.idle.pop() if self.idle else None
        if conn is not None:
            try:
                return self._exchange(conn, request, body)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                pass
        return self._exchange(self._connect(), request, body)

    def _connect(self) -> _Connection:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.https:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, h11.Connection(h11.CLIENT))

    def _exchange(self, conn: _Connection, request: h11.Request, body: bytes) -> int:
        """Send one request and read its answer to the end; the connection goes back to the
        pool when h11 says both sides may go on, and is closed otherwise."""
        framing = conn.framing
        try:
            conn.sock.sendall(b"".join(framing.send(event) or b"" for event in (
                request, h11.Data(data=body), h11.EndOfMessage())))
            status = 0
            while True:
                event = framing.next_event()
                if event is h11.NEED_DATA:
                    data = conn.sock.recv(65536)
                    if not data and not status:
                        raise http.client.RemoteDisconnected("closed without a response")
                    framing.receive_data(data)
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif event is h11.PAUSED:  # a 101: the receiver left HTTP on this connection
                    raise http.client.HTTPException("the receiver switched protocols")
        except BaseException:
            conn.sock.close()
            raise
        if framing.our_state is h11.DONE and framing.their_state is h11.DONE:
            framing.start_next_cycle()
            with self.lock:
                self.idle.append(conn)
        else:
            conn.sock.close()
        return status


class _Connection:
    """One kept-alive socket and h11's state of the exchanges on it."""

    def __init__(self, sock: socket.socket, framing: h11.Connection) -> None:
        self.sock = sock
        self.framing = framing
