#!/usr/bin/env python3
"""A fault-injecting HTTP reverse proxy for berth's fault tests (Python standard library only).

It listens on 127.0.0.1 in front of one upstream (moto's EC2 server, or the Kubernetes
stand-in) and answers a chosen share of requests itself with a fault, forwarding the rest:

* ``throttle``: the throttling error of the API the request is for (the service of its
  SigV4 credential scope), as botocore and the Rust SDK parse it: for EC2 (query protocol)
  HTTP 400 with ``<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>…
  </Message></Error></Errors><RequestID>…</RequestID></Response>``; for ELBv2 (AWS query
  protocol) HTTP 400 with ``<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>
  <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>``; for EKS (REST-JSON)
  HTTP 429 with ``x-amzn-ErrorType: ThrottlingException`` and a JSON ``message``;
* ``429``: HTTP 429 Too Many Requests with a Kubernetes ``Status`` body (reason
  ``TooManyRequests``) and ``Retry-After: 1``, as an API server's priority and fairness answers;
* ``503``: HTTP 503 Service Unavailable with an empty body;
* ``drop``: the request is read whole, then the connection is closed without an answer.

Which requests get a fault, and which fault, comes from one seeded RNG (``--seed``), drawn
once per request in arrival order. ``GET /proxy/stats`` is answered by the proxy itself, never
forwarded and never faulted: a JSON object with ``forwarded``, ``streak_capped`` and the count
of each fault.

    python3 tests/fault-proxy/proxy.py --upstream http://127.0.0.1:5000 --port 0 \\
        --port-file PORTFILE [--rate 0.3] [--seed 1] [--faults throttle,503,drop] \\
        [--max-streak N] [--delay SECONDS]

``--max-streak N`` forwards a request (the same method, path and body: a retry) that got N
faults in a row, so a client with more than N attempts per call always gets through;
``--delay`` slows every forwarded request, to keep a run busy for a while.

The chosen port goes to ``--port-file`` last and atomically. Stop it with SIGTERM.
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse
import uuid

FAULTS = ("throttle", "429", "503", "drop")

# Headers that belong to one hop, not to the request (RFC 9110 7.6.1).
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


def throttle(authorization):
    """The throttling answer of the API a request is for: status, body, content type, headers."""
    scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    service = scope[3] if len(scope) > 3 else "ec2"
    if service == "eks":
        body = json.dumps({"message": "Rate exceeded"}).encode()
        return 429, body, "application/json", {"x-amzn-ErrorType": "ThrottlingException"}
    if service == "elasticloadbalancing":
        body = (
            '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">'
            "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        return 400, body, "text/xml", {}
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
        "<Message>Request limit exceeded.</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    return 400, body, "text/xml", {}


def too_many_body():
    return json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": 1}, "code": 429,
    }).encode()


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, upstream, rate, seed, faults, max_streak=0, delay=0.0):
        super().__init__(address, Handler)
        self.upstream = urllib.parse.urlsplit(upstream)
        self.rate = rate
        self.faults = faults
        self.max_streak = max_streak
        self.delay = delay
        self.streaks = {}
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stats = {"forwarded": 0, "streak_capped": 0, **{f: 0 for f in FAULTS}}

    def handle_error(self, request, client_address):
        """A client that went away mid-answer (a killed run) is not the proxy's error."""

    def draw(self, key):
        """The fault for the next request, or None to forward it; counted. With a max streak,
        a request (`key`: method, path and body, the same on every retry) that got that many
        faults in a row is forwarded."""
        with self.lock:
            fault = self.rng.choice(self.faults) if self.rng.random() < self.rate else None
            if self.max_streak:
                streak = self.streaks.pop(key, 0)
                if fault and streak >= self.max_streak:
                    fault = None
                    self.stats["streak_capped"] += 1
                elif fault:
                    self.streaks[key] = streak + 1
            self.stats[fault or "forwarded"] += 1
            return fault


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/proxy/stats":
            with self.server.lock:
                self.answer(200, json.dumps(self.server.stats).encode(), "application/json")
            return
        fault = self.server.draw(hashlib.sha256(self.command.encode() + self.path.encode() + body).hexdigest())
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if fault == "throttle":
            self.answer(*throttle(self.headers.get("Authorization") or ""))
            return
        if fault == "429":
            self.answer(429, too_many_body(), "application/json", {"Retry-After": "1"})
            return
        if fault == "503":
            self.answer(503, b"", "text/plain")
            return
        self.forward(body)

    def answer(self, status, body, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self, body):
        if self.server.delay:
            time.sleep(self.server.delay)
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            conn.request(self.command, self.path, body=body if body or self.command in ("POST", "PUT", "PATCH") else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError as e:
            self.answer(502, f"upstream: {e}".encode(), "text/plain")
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--rate", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--faults", default="throttle,503,drop", help=f"some of {','.join(FAULTS)}")
    p.add_argument("--max-streak", type=int, default=0, help="forward a request after this many faults in a row (0: no cap)")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait before forwarding each request")
    a = p.parse_args()
    faults = tuple(f for f in a.faults.split(",") if f)
    unknown = [f for f in faults if f not in FAULTS]
    if unknown or not faults:
        p.error(f"--faults takes some of {','.join(FAULTS)}, not {a.faults!r}")
    server = Proxy(("127.0.0.1", a.port), a.upstream, a.rate, a.seed, faults, a.max_streak, a.delay)
    signal.signal(signal.SIGTERM, lambda *_: (server.server_close(), os._exit(0)))
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, a.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
