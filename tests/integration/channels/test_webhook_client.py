"""The webhook channel's HTTP/1.1 client (h11 framing, our pool of kept connections) against a
raw loopback server that answers with the framings receivers use: the push's outcome and the
kept connection depend on reading each answer to its exact end."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from adapters.channels.base import DELIVERED, REFUSED, RETRY
from adapters.channels.registry import pushers
from engine.tasks.channel import Channel

TASK = {"id": 1, "idempotency_key": "k-1", "payload": {}}


@contextmanager
def answering(answers: Sequence[bytes]) -> Iterator[tuple[str, list[int]]]:
    """A server giving `answers` in order, one per request, across connections; it closes a
    connection after an answer ending in b"<close>". Yields its URL and the connections
    each request came on."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[int] = []

    def serve() -> None:
        queue = list(answers)
        for number in range(len(answers)):
            if not queue:
                return
            conn, _ = listener.accept()
            with conn, conn.makefile("rb") as file:
                while queue:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        byte = file.read(1)
                        if not byte:
                            break
                        head += byte
                    if not head:
                        break
                    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    file.read(length)
                    seen.append(number)
                    answer = queue.pop(0)
                    conn.sendall(answer.removesuffix(b"<close>"))
                    if answer.endswith(b"<close>"):
                        conn.shutdown(socket.SHUT_RDWR)
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook", seen
    finally:
        listener.close()
        thread.join(timeout=5)


def _push(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    monkeypatch.setenv("TEND_TEST_SECRET", "s")
    found = pushers({"hook": Channel("hook", "webhook", {
        "url": url, "secret_env": "TEND_TEST_SECRET", "timeout": 5})})
    return found["hook"].send, found["hook"].close


def test_answers_of_every_framing_are_read_to_their_end_and_the_connection_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;x=1\r\nhello\r\n0\r\nTrailer: t\r\n\r\n",
               b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
               b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
               b"HTTP/1.0 200 OK\r\n\r\nno length, ends with the connection<close>",
               b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n<close>",
               b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"]
    with answering(answers) as (url, seen):
        send, close = _push(url, monkeypatch)
        kinds = [send(TASK).kind for _ in answers]  # type: ignore[operator]
        close()  # type: ignore[operator]
    assert kinds == [DELIVERED, DELIVERED, REFUSED, DELIVERED, RETRY, DELIVERED]
    assert seen == [0, 0, 0, 0, 1, 2]


@pytest.mark.parametrize("answer", [b"garbage\r\n\r\n<close>",
                                    b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n<close>",
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort<close>",
                                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                                    b"Connection: upgrade\r\n\r\n<close>",
                                    b"<close>"])
def test_a_malformed_or_cut_answer_is_tried_again_later(monkeypatch: pytest.MonkeyPatch,
                                                       answer: bytes) -> None:
    with answering([answer]) as (url, _):
        send, close = _push(url, monkeypatch)
        outcome = send(TASK)  # type: ignore[operator]
        close()  # type: ignore[operator]
    assert outcome.kind == RETRY
