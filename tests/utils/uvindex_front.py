# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The counting front of tests/utils/uvindex.py's indexes, and its client side.

A ``CountingProxy`` on 127.0.0.1 passes requests and answers through to a backend unchanged (the
``Host`` header too), counts them (``GET /_stats``, ``POST /_reset``), records each request's
headers (credentials redacted) and, for the ``auth`` fronts, demands HTTP Basic auth. ``get``,
``reset`` and ``stats`` are what a test asks it with.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import http.server
import json
import secrets
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

from uvmirror import BackgroundServer  # tests/utils


# uv's own Accept header (PEP 691 JSON preferred, HTML accepted).
UV_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}


SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


class Stats:
    """What a front saw since the last reset: requests, body bytes sent, and each request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Requests being answered: an entry is added only when its answer is done, which a
        # client that has read the whole body may not wait for; as_dict() waits for them.
        self.busy = 0
        self.settled = threading.Condition(self.lock)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.bytes = 0
            self.paths: list = []
            self.log: list = []

    def begin(self) -> None:
        with self.lock:
            self.busy += 1

    def add(self, entry: dict) -> None:
        with self.lock:
            self.busy -= 1
            self.requests += 1
            self.bytes += entry["bytes"]
            self.paths.append(entry["path"])
            self.log.append(entry)
            self.settled.notify_all()

    def as_dict(self) -> dict:
        with self.lock:
            self.settled.wait_for(lambda: self.busy == 0, timeout=10)
            return {"requests": self.requests, "bytes": self.bytes, "paths": list(self.paths),
                    "log": [dict(e) for e in self.log]}


def redact_headers(headers) -> dict:
    """Request headers for the stats; credentials are replaced by what they say, never their value."""
    out = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0]
            if scheme.lower() == "basic":
                try:
                    user = base64.b64decode(value.split(" ", 1)[1]).decode().split(":", 1)[0]
                except Exception:  # pylint: disable=broad-except
                    user = "?"
                value = "Basic <redacted, user %s>" % user
            else:
                value = "%s <redacted>" % scheme
        out[name] = value
    return out


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    """Forwards one request to the backend and streams the answer back unchanged."""

    protocol_version = "HTTP/1.1"
    server_version = "uvindex-front/1"

    def log_message(self, *args) -> None:  # quiet
        return

    def _send_json(self, data, status: int = 200) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _authorized(self) -> bool:
        expected = self.server.auth
        if not expected:
            return True
        token = "Basic " + base64.b64encode(("%s:%s" % expected).encode()).decode()
        return secrets.compare_digest(self.headers.get("Authorization", ""), token)

    def _forward(self, method: str) -> None:
        entry = {"method": method, "path": self.path, "status": 0, "bytes": 0,
                 "headers": redact_headers(self.headers)}
        self.server.stats.begin()
        try:
            if not self._authorized():
                entry["status"] = 401
                body = b"authentication required\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="uvindex"')
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(body)
                    entry["bytes"] = len(body)
                self.close_connection = True
                return
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and not (self.server.auth and k.lower() == "authorization")}
            backend = http.client.HTTPConnection(self.server.backend[0], self.server.backend[1], timeout=120)
            try:
                backend.request(method, self.path, body=payload, headers=headers)
                answer = backend.getresponse()
                entry["status"] = answer.status
                self.send_response(answer.status, answer.reason)
                known_length = answer.getheader("Content-Length")
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                chunked = known_length is None and method != "HEAD" and answer.status not in (204, 304)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if method == "HEAD":
                    return
                while True:
                    chunk = answer.read(1 << 16)
                    if not chunk:
                        break
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    else:
                        self.wfile.write(chunk)
                    entry["bytes"] += len(chunk)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            finally:
                backend.close()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except OSError as exc:
            if not entry["status"]:
                entry["status"] = 502
                with contextlib.suppress(OSError):
                    self.send_error(502, "backend unreachable: %s" % exc)
            self.close_connection = True
        finally:
            self.server.stats.add(entry)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/_stats":
            return self._send_json(self.server.stats.as_dict())
        return self._forward("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        return self._forward("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        if self.path == "/_reset":
            self.server.stats.reset()
            return self._send_json({"ok": True})
        return self._forward("POST")

    def do_PUT(self) -> None:  # noqa: N802
        return self._forward("PUT")


class CountingProxy(BackgroundServer):
    """A front on 127.0.0.1 for ``backend`` (``(host, port)``); ``auth`` is ``(user, password)``."""

    def __init__(self, backend: tuple, auth: tuple | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        if not host.startswith("127.") or not backend[0].startswith("127."):
            raise ValueError("the test indexes live on loopback (127.0.0.0/8) only")
        self.backend = backend
        self.auth = auth
        self.stats = Stats()
        super().__init__((host, port), ProxyHandler)

    @property
    def url(self) -> str:
        return "http://%s:%d" % self.server_address[:2]


@contextlib.contextmanager
def front(backend: tuple, auth: tuple | None = None):
    proxy = CountingProxy(backend, auth).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def accepts_json(accept: str) -> bool:
    """Whether an ``Accept`` header prefers PEP 691 JSON over HTML (q-values honoured)."""
    best = {"json": -1.0, "html": -1.0}
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        kind, q = fields[0].lower(), 1.0
        for field in fields[1:]:
            if field.startswith("q="):
                with contextlib.suppress(ValueError):
                    q = float(field[2:])
        if kind == JSON_TYPE:
            best["json"] = max(best["json"], q)
        elif kind in ("application/vnd.pypi.simple.v1+html", "text/html", "*/*", "text/*"):
            best["html"] = max(best["html"], q)
    return best["json"] > 0 and best["json"] >= best["html"]


def get(url: str, accept: str | None = None, auth: tuple | None = None, method: str = "GET") -> tuple:
    """``(status, headers, body, final_url)`` of one request (headers case-insensitive);
    urllib follows redirects."""
    request = urllib.request.Request(url, method=method)
    if accept:
        request.add_header("Accept", accept)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.headers, answer.read(), answer.url
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read(), url


def reset(stats_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(stats_url.replace("/_stats", "/_reset"), method="POST"),
                           timeout=10).read()


def stats(stats_url: str) -> dict:
    with urllib.request.urlopen(stats_url, timeout=10) as answer:
        return json.load(answer)
