# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tripwire HTTP proxy on loopback: it records every connection it receives and refuses it.

Point ``HTTP_PROXY``, ``HTTPS_PROXY``, ``http_proxy``, ``https_proxy`` and ``ALL_PROXY``
at it (``proxy_env()`` builds that environment) and ``NO_PROXY`` at the loopback servers
a test *may* use. Any attempt of the program under test to reach anything else then
arrives here instead: the tripwire writes one JSON line per connection to its log and
answers ``403`` and closes. It never connects anywhere, so nothing leaks out, and the
proof that nothing was asked is "0 connections".

Stable interface (other helpers' tests rely on it):

Command line::

    python3 tests/utils/tripwire.py serve --host 127.0.0.1 [--port 0] --portfile F --log L
        Listen on a loopback address (127.0.0.0/8 only); write the bound port to F
        (atomically, once listening) and append one JSON line per connection to L.
        Stops on SIGTERM/SIGINT.
    python3 tests/utils/tripwire.py count --log L [--expect N]
        Print ``{"connections": n, "records": [...]}``; exit 1 if ``--expect`` is given
        and differs (``--expect 0`` is the usual proof).
    python3 tests/utils/tripwire.py env --portfile F [--host 127.0.0.1] [--no-proxy H,H]
        Print the proxy environment for the running tripwire as JSON.

Log records (one JSON object per line, one line per connection)::

    {"time": "2026-12-04T15:30:00.123456+00:00", "epoch": 1796398200.123,
     "client": "127.0.0.1:51234", "method": "CONNECT", "target": "pypi.org:443",
     "host": "pypi.org:443", "request_line": "CONNECT pypi.org:443 HTTP/1.1",
     "user_agent": "uv/0.13.8"}

``method`` and ``target`` are those of the request line: ``CONNECT host:port`` for
HTTPS, the absolute URI (``GET http://host/path``) for plain HTTP. A connection that
sends no request line within the timeout, or bytes that are not HTTP (a SOCKS
handshake, a TLS ClientHello), is recorded too, with ``method`` ``null`` and the first
bytes in ``raw`` (hex). Header values other than ``Host`` and ``User-Agent`` (cut to
160 characters) are not recorded (``Proxy-Authorization`` never is).

Library use::

    sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))
    import tripwire

    trip = tripwire.Tripwire(log="/tmp/x/tripwire.jsonl").start()   # port 0: any free port
    env = tripwire.proxy_env(trip.url, no_proxy=["127.0.0.1:8080"])
    ...                               # run the program under test with env
    assert trip.connections() == []   # list of the records above
    trip.stop()

``Tripwire`` is a ``BackgroundServer`` (``tests/utils/uvmirror.py``): ``start()`` serves
in a daemon thread, ``stop()`` shuts it down; ``url`` is ``http://127.0.0.1:<port>``,
``reset()`` forgets the records kept in memory (the log file is append-only).

One request path is not a proxy request and is not recorded: ``GET /_tripwire``
(origin form, sent to the tripwire as a server) answers the records as JSON, so a
process that did not start the tripwire can ask it without reading the log.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import socketserver
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uvmirror import BackgroundServer, serve_until_signal  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
CONTROL_PATH = "/_tripwire"
MAX_LINE = 8192
MAX_HEADERS = 100
READ_TIMEOUT = 5.0
MAX_AGENT = 160  # uv's User-Agent carries a long JSON blob about the host


def proxy_env(url: str, no_proxy=()) -> dict:
    """The environment that sends every proxied connection to the tripwire at ``url``.

    ``no_proxy`` is an iterable of ``host`` or ``host:port`` entries that may be reached
    directly (the loopback index); it is written to ``NO_PROXY`` and ``no_proxy``. Both
    spellings of each variable are set because programs differ in which they read (curl
    ignores upper-case ``HTTP_PROXY``; Rust's reqwest, which uv uses, reads both).
    """
    env = {name: url for name in PROXY_VARIABLES}
    joined = ",".join(no_proxy)
    for name in NO_PROXY_VARIABLES:
        env[name] = joined
    return env


class TripwireHandler(socketserver.StreamRequestHandler):
    """Reads one request head, records it (unless it is the control path), answers 403."""

    timeout = READ_TIMEOUT

    def handle(self) -> None:
        record = {"client": "%s:%d" % self.client_address[:2], "method": None, "target": None,
                  "host": None, "request_line": None, "user_agent": None}
        now = time.time()
        record["epoch"] = round(now, 6)
        record["time"] = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()
        # Peek first: a SOCKS or TLS client sends bytes without a newline, which readline()
        # would wait for until the timeout and then lose.
        try:
            first = self.request.recv(64, socket.MSG_PEEK)
        except OSError:
            first = b""
        method = first.split(b" ", 1)[0]
        line = b""
        if first and b" " in first and method.isalpha() and method.isupper():
            try:
                line = self.rfile.readline(MAX_LINE)
            except OSError:
                line = b""
        text = line.decode("latin-1").rstrip("\r\n")
        parts = text.split()
        if len(parts) == 3 and parts[2].startswith("HTTP/") and parts[0].isalpha():
            record["method"], record["target"] = parts[0], parts[1]
            record["request_line"] = text
            for _count in range(MAX_HEADERS):
                try:
                    header = self.rfile.readline(MAX_LINE)
                except OSError:
                    break
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _sep, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "host":
                    record["host"] = value.strip()
                elif name.strip().lower() == "user-agent":
                    record["user_agent"] = value.strip()[:MAX_AGENT]
            if record["method"] == "CONNECT":
                record["host"] = record["target"]
            if record["method"] == "GET" and record["target"] == CONTROL_PATH:
                return self._answer(200, json.dumps(self.server.connections()).encode(), "application/json")
        else:
            record["raw"] = (line or first)[:64].hex()
        self.server.record(record)
        self._answer(403, b"tripwire: this test allows no connection through a proxy\n", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        reason = {200: "OK", 403: "Forbidden"}[status]
        head = ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (status, reason, content_type, len(body)))
        try:
            self.wfile.write(head.encode("latin-1") + body)
            self.wfile.flush()
        except OSError:
            pass


class Tripwire(BackgroundServer):
    """The tripwire proxy on a loopback address; ``log`` is an optional JSON-lines file."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log: str | None = None) -> None:
        if not host.startswith("127."):
            raise ValueError("the tripwire listens on loopback (127.0.0.0/8) only")
        self.log = log
        self._records: list = []
        self._lock = threading.Lock()
        super().__init__((host, port), TripwireHandler)

    @property
    def url(self) -> str:
        return "http://%s:%d" % self.server_address[:2]

    def record(self, record: dict) -> None:
        """Keep ``record`` and append it to the log (flushed, so a reader sees it at once)."""
        with self._lock:
            self._records.append(record)
            if self.log:
                with open(self.log, "a") as handle:
                    handle.write(json.dumps(record, sort_keys=True) + "\n")

    def connections(self) -> list:
        """Every connection recorded since the start (or the last ``reset()``), oldest first."""
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        with self._lock:
            self._records = []


def read_log(path: str) -> list:
    """The records of a tripwire log (an absent log means no connection)."""
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def serve(host: str, port: int, portfile: str | None, log: str | None) -> None:
    server = Tripwire(host, port, log)
    if log:
        open(log, "a").close()  # an existing, empty log says "running, nothing seen"
    serve_until_signal(server, portfile)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="listen on loopback, record and refuse every connection")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--portfile")
    s.add_argument("--log")
    c = sub.add_parser("count", help="print the connections a log holds")
    c.add_argument("--log", required=True)
    c.add_argument("--expect", type=int)
    e = sub.add_parser("env", help="print the proxy environment for a running tripwire as JSON")
    e.add_argument("--portfile", required=True)
    e.add_argument("--host", default="127.0.0.1")
    e.add_argument("--no-proxy", default="")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.portfile, args.log)
        return 0
    if args.command == "count":
        records = read_log(args.log)
        print(json.dumps({"connections": len(records), "records": records}, indent=1))
        return 1 if args.expect is not None and len(records) != args.expect else 0
    with open(args.portfile) as handle:
        url = "http://%s:%s" % (args.host, handle.read().strip())
    print(json.dumps(proxy_env(url, [h for h in args.no_proxy.split(",") if h]), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
