"""The `webhook` channel: a signed POST per task or cancel over a kept-alive connection (one per
thread). A 2xx is delivery; a 4xx other than 408/429 is the receiver refusing the task for good;
anything else (5xx, 408, 429, timeouts, refused connections) may pass on a later attempt."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

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
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
            return Outcome(RETRY, f"{type(exc).__name__} from {url}: {exc}")
        if 200 <= status < 300:
            return Outcome(DELIVERED, f"HTTP {status}")
        refused = 400 <= status < 500 and status not in RETRIED_4XX
        return Outcome(REFUSED if refused else RETRY, f"HTTP {status} from {url}")

    return post


class Client:
    """POSTs to one URL over kept-alive connections, one per request in flight, reused:
    a new TCP (and TLS) handshake per task would cost more than the request itself.

    HTTP/1.1 written and read here rather than by http.client, whose request building and
    header parsing (the email package) cost more CPU than everything else a push does
    (bench/dispatch.py); h11 costs about 40 µs a request, a fifth of a whole push now. A
    response framed by neither Content-Length nor chunked encoding is read to the end and its
    connection closed, as is any connection after an error."""

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        url = options.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValidationError("expected an http(s) URL",
                                  field=f"channels.{channel}.options.url")
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = self.port == (443 if self.https else 80)
        self.head = (f"POST {path} HTTP/1.1\r\nHost: {host}{'' if default else f':{self.port}'}"
                     f"\r\nAccept-Encoding: identity\r\n")
        self.timeout = number(channel, options, "timeout", 10.0, float)
        self.lock = threading.Lock()
        self.idle: list[_Connection] = []

    def close(self) -> None:
        """Close the idle connections (those in use are kept until their request ends)."""
        with self.lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()

    def post(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The answer's status; a kept connection the server has meanwhile closed is
        replaced once (a request sent twice carries one key), any other failure raises."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
            raise http.client.HTTPException("a header holds a line break")
        request = (f"{self.head}{lines}Content-Length: {len(body)}\r\n\r\n"
                   .encode("latin-1") + body)
        with self.lock:
            conn = self.idle.pop() if self.idle else None
        if conn is not None:
            try:
                return self._post(conn, request)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                pass
        return self._post(self._connect(), request)

    def _connect(self) -> _Connection:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.https:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _post(self, conn: _Connection, request: bytes) -> int:
        try:
            conn.sock.sendall(request)
            status, keep = conn.response()
        except BaseException as exc:
            conn.close()
            if isinstance(exc, ValueError):  # a malformed number in the response
                raise http.client.HTTPException(f"malformed response: {exc}") from exc
            raise
        if keep:
            with self.lock:
                self.idle.append(conn)
        else:
            conn.close()
        return status


class _Connection:
    """One kept-alive connection and the reader of its responses."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def response(self) -> tuple[int, bool]:
        """Read one response (skipping interim 1xx ones): its status, and whether the
        connection may carry another request."""
        while True:
            line = self.file.readline(65537)
            if not line:
                raise http.client.RemoteDisconnected("closed without a response")
            version, _, rest = line.partition(b" ")
            if not version.startswith(b"HTTP/") or not rest[:3].isdigit():
                raise http.client.BadStatusLine(repr(line[:100]))
            status = int(rest[:3])
            fields = self._fields()
            if status >= 200 or status == 101:
                break
        keep = version == b"HTTP/1.1" and b"close" not in fields.get(b"connection", b"").lower()
        if status in (204, 304) or status < 200:
            return status, keep and status != 101
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            self._chunks()
        elif b"content-length" in fields:
            self._skip(int(fields[b"content-length"]))
        else:
            while self.file.read(65536):
                pass
            keep = False
        return status, keep

    def _fields(self) -> dict[bytes, bytes]:
        fields: dict[bytes, bytes] = {}
        for _ in range(200):
            line = self.file.readline(65537)
            if line in (b"\r\n", b"\n"):
                return fields
            if not line:
                raise http.client.IncompleteRead(b"")
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        raise http.client.HTTPException("too many header fields")

    def _chunks(self) -> None:
        while True:
            size = int(self.file.readline(65537).split(b";")[0].strip() or b"x", 16)
            if size == 0:
                self._fields()  # trailers
                return
            self._skip(size + 2)

    def _skip(self, size: int) -> None:
        while size > 0:
            got = len(self.file.read(min(size, 65536)))
            if not got:
                raise http.client.IncompleteRead(b"", size)
            size -= got
