"""The far side of bench/dispatch.py, kept to the standard library so that it starts in
milliseconds: a webhook receiver, and the plain client that measures its ceiling.

    python bench/dispatch_peer.py receiver            # prints its port, then serves
    python bench/dispatch_peer.py client PORT COUNT THREADS GO
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "bench-secret"


def serve_receiver() -> None:
    """Print the port, answer POSTs with 200 at once, and GET /keys with the distinct keys
    and posts seen since the last GET."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                seen[key] = seen.get(key, 0) + 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            with lock:
                body = json.dumps({"keys": len(seen), "posts": sum(seen.values())}).encode()
                seen.clear()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # the default 5 drops a burst of connects (1 s SYN retries)

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def client(port: int, count: int, threads: int, go: float) -> None:
    """At the instant `go`, POST `count` signed task bodies over `threads` kept-alive
    connections; print the instant the last answer came."""
    body = json.dumps({"kind": "task", "id": 1, "payload": {
        "template": "winback_sms", "params": {"offer": "WB50"}}}).encode()
    share = [count // threads + (i < count % threads) for i in range(threads)]

    def post(n: int, offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(n):
            at = int(time.time())
            digest = hmac.new(SECRET.encode(), f"{at}.".encode() + body,
                              hashlib.sha256).hexdigest()
            conn.request("POST", "/hook", body=body, headers={
                "Content-Type": "application/json", "Idempotency-Key": f"c{offset + i}",
                "Tend-Signature": f"t={at},v1={digest}"})
            conn.getresponse().read()
        conn.close()

    workers = [threading.Thread(target=post, args=(n, sum(share[:i])))
               for i, n in enumerate(share)]
    time.sleep(max(0.0, go - time.time()))
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    print(time.time(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "receiver":
        serve_receiver()
    else:
        client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
