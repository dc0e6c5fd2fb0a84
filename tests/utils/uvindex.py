# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real package indexes on loopback serving the real uv wheels, for the index source tests.

Three indexes, each behind its own counting front (``CountingProxy``), all on 127.0.0.1:

- **pypiserver** (PEP 503 HTML only, root-relative ``/packages/...`` links with
  ``#sha256=``): ``uv`` 0.5.11 and 0.13.8, and ruff's and ty's wheels (``TOOL_WHEELS``).
- **devpi-server** (PEP 691 JSON and PEP 503 HTML by ``Accept``, relative
  ``../../+f/...`` links): the private index ``root/dev`` (no bases, so nothing is ever
  asked of an upstream index) with 0.5.11 and 0.13.8 uploaded through devpi's HTTP
  upload API, and ``root/yanked``, a devpi *mirror* index of the static ``yanked`` tree
  below: devpi cannot yank on a private index ("PEP 592 isn't supported for private
  stages yet" in its model.py), but a mirror index passes the upstream's yanked flags on,
  in both dialects.
- **static** (a PEP 503 tree laid out as Nexus serves it, ``../../packages/uv/<v>/<file>``
  links, from ``StaticHandler``): ``yanked/`` (HTML only, 0.13.9 carries ``data-yanked``),
  ``yanked-json/`` (the same, negotiated to PEP 691 JSON by ``Accept``) and ``tampered/``
  (HTML; every 0.5.11 wheel listed with a wrong sha256). pypiserver cannot yank
  (pypiserver issue 555), so this is where the HTML ``data-yanked`` cases run.

A front passes requests and answers through unchanged (the ``Host`` header too, so the
backends build their absolute URLs and redirects for the front's address, and relative
links resolve against it), counts them (``GET /_stats``, ``POST /_reset``), records
each request's headers (credentials redacted) and, for the ``auth`` fronts, demands HTTP
Basic auth. The module under test is only ever given front URLs.

Commands: ``fetch`` (the wheels, into ``~/.cache/pyfleet-uv/wheels``), ``serve`` (start
everything, print the URLs as JSON, stop on SIGTERM/SIGINT), ``record`` (write the unit
test fixtures from the running servers), ``selftest`` (start, fetch pages and a wheel
through every front, check hashes and counts, report timings).

Library use (hacking/suite.py)::

    sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))
    import uvindex

    with uvindex.indexes(("pypiserver", "devpi")) as ix:      # {kind: Index}
        uv_indexes = [ix[k].ansible_vars() for k in ("pypiserver", "devpi")]

Caches (under ``~/.cache/pyfleet-uv``): ``wheels/`` (shared with uvmirror.py),
``venvs/pypiserver-*`` and ``venvs/devpi-*``, ``index-static/`` (hard links to the wheels)
and ``index-devpi-*/`` (a prepared, stopped devpi server directory that each start copies).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import html
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils
from uvmirror import BackgroundServer  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils

# uv's own Accept header (PEP 691 JSON preferred, HTML accepted).
UV_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"

OLD, NEW, YANKED = "0.5.11", "0.13.8", "0.13.9"
# (version, platform tag given to pip download). x86_64 for every version; aarch64, i686
# (the fleet's arm64 and i386 hosts) and a Windows wheel for NEW, so that pages also carry
# wheels a host must pass over.
WHEELS = (
    (OLD, "manylinux2014_x86_64"), (OLD, "musllinux_1_1_x86_64"),
    (NEW, "manylinux2014_x86_64"), (NEW, "musllinux_1_1_x86_64"),
    (NEW, "manylinux_2_28_aarch64"), (NEW, "musllinux_1_1_aarch64"), (NEW, "win_amd64"),
    (NEW, "manylinux2014_i686"), (NEW, "musllinux_1_1_i686"),
    (YANKED, "manylinux2014_x86_64"), (YANKED, "musllinux_1_1_x86_64"),
)
PLAIN_VERSIONS = (OLD, NEW)  # what pypiserver and devpi root/dev hold
# ruff's and ty's wheels on pypiserver and devpi root/dev, from the mirror's table
# (uvmirror.TOOLS: the same wheels its archives are made of): both versions of each for
# x86_64, the newer one for every platform there (aarch64 and i686 too, for the fleet).
TOOL_WHEELS = tuple(
    (tool, version, platform)
    for tool, (platforms, versions) in sorted(uvmirror.TOOLS.items()) if tool != "uv"
    for version in versions for platform in sorted(platforms)
    if version == versions[-1] or platform.endswith("_x86_64")
)
YANK_REASON = "pulled for the yanked-release test"
TAMPERED_VERSION = OLD  # every uv wheel of this version has a wrong sha256 on tampered/

# Requirements of the servers' virtual environments (the venv is keyed by them).
PYPISERVER_REQUIREMENTS = ["pypiserver>=2.4,<3"]
DEVPI_REQUIREMENTS = ["devpi-server>=6.20,<7"]
START_TIMEOUT = 90.0


def log(message: str) -> None:
    print("[uvindex] %s" % message, file=sys.stderr, flush=True)


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pyfleet-uv")


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wheel_tags(name: str) -> tuple:
    """``(version, {platform tags})`` of a ``uv-<version>-py3-none-<tags>.whl`` name."""
    match = re.match(r"^uv-([^-]+)-py3-none-(.+)\.whl$", name)
    if not match:
        raise ValueError("not a uv wheel name: %s" % name)
    return match.group(1), set(match.group(2).split("."))


# -- wheels --------------------------------------------------------------------

def fetch_wheel(version: str, platform: str, wheels: str) -> str:
    """The cached uv wheel for ``version`` whose tag set holds ``platform``; downloads it once.

    The download goes to a private folder beside the cache and is renamed into it, so a
    concurrent reader of the shared cache never sees half a file.
    """
    os.makedirs(wheels, exist_ok=True)
    for name in sorted(os.listdir(wheels)):
        if name.startswith("uv-%s-" % version) and name.endswith(".whl") and platform in wheel_tags(name)[1]:
            return os.path.join(wheels, name)
    staging = tempfile.mkdtemp(prefix=".uvindex-", dir=wheels)
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--platform", platform, "--dest", staging, "uv==%s" % version],
            check=True,
        )
        got = [n for n in os.listdir(staging) if n.endswith(".whl")]
        if len(got) != 1:
            raise RuntimeError("pip download uv==%s --platform %s gave %r" % (version, platform, got))
        dest = os.path.join(wheels, got[0])
        if not os.path.exists(dest):
            os.replace(os.path.join(staging, got[0]), dest)
        if platform not in wheel_tags(got[0])[1]:
            log("pip chose %s for --platform %s (a compatible older tag)" % (got[0], platform))
        return dest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_wheels(wheels: str | None = None, specs=WHEELS) -> dict:
    """``{(version, platform): path}`` for every wanted wheel, downloading what is missing."""
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    return {(v, p): fetch_wheel(v, p, wheels) for v, p in specs}


# -- virtual environments --------------------------------------------------------

def fetch_package(requirement: str, wheels: str | None = None) -> str:
    """The cached pure-Python wheel of ``requirement`` (``packaging==24.2``); downloads it once.

    For indexes that must also hold an ordinary package, so that ``uv pip install`` has a
    real project to fetch from them.
    """
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    name, _sep, version = requirement.partition("==")
    prefix = "%s-%s-" % (name.replace("-", "_"), version)
    os.makedirs(wheels, exist_ok=True)
    found = [n for n in sorted(os.listdir(wheels)) if n.startswith(prefix) and n.endswith("-py3-none-any.whl")]
    if found:
        return os.path.join(wheels, found[0])
    staging = tempfile.mkdtemp(prefix=".uvindex-", dir=wheels)
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--dest", staging, requirement], check=True)
        got = [n for n in os.listdir(staging) if n.startswith(prefix) and n.endswith("-py3-none-any.whl")]
        if len(got) != 1:
            raise RuntimeError("pip download %s gave %r" % (requirement, os.listdir(staging)))
        os.replace(os.path.join(staging, got[0]), os.path.join(wheels, got[0]))
        return os.path.join(wheels, got[0])
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def venv(name: str, requirements: list, python: str | None = None) -> str:
    """A cached virtual environment with ``requirements``, made once (``.complete`` marker)."""
    python = python or sys.executable
    key = hashlib.sha256(json.dumps([os.path.realpath(python), requirements]).encode()).hexdigest()[:12]
    path = os.path.join(cache_dir(), "venvs", "%s-%s" % (name, key))
    if os.path.exists(os.path.join(path, ".complete")):
        return path
    with cache_lock("venv-%s-%s" % (name, key)):
        _make_venv(path, python, requirements)
    return path


def _make_venv(path: str, python: str, requirements: list) -> None:
    if not os.path.exists(os.path.join(path, ".complete")):
        started = time.time()
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([python, "-m", "venv", path], check=True)
        subprocess.run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check"] + requirements, check=True)
        open(os.path.join(path, ".complete"), "w").close()
        log("made venv %s in %.1fs" % (path, time.time() - started))


def installed_version(venv_path: str, dist: str) -> str:
    out = subprocess.run([os.path.join(venv_path, "bin", "python"), "-c",
                          "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))", dist],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@contextlib.contextmanager
def cache_lock(name: str):
    """Serialise the building of one cached thing across processes (an flock beside it)."""
    os.makedirs(cache_dir(), exist_ok=True)
    with open(os.path.join(cache_dir(), ".%s.lock" % name), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the counting front ------------------------------------------------------------

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


# -- the static tree -------------------------------------------------------------

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


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a static index tree; a folder's ``index.json`` is chosen over ``index.html``
    when the client prefers PEP 691 JSON (the way Artifactory with JSON switched on answers)."""

    server_version = "uvindex-static/1"
    protocol_version = "HTTP/1.0"
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".whl": "application/octet-stream", ".json": JSON_TYPE})

    def log_message(self, *args) -> None:  # quiet
        return

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?", 1)[0].endswith("/"):
            if os.path.exists(os.path.join(path, "index.json")) and accepts_json(self.headers.get("Accept", "")):
                self.path = self.path.split("?", 1)[0] + "index.json"
            elif not os.path.exists(os.path.join(path, "index.html")):
                self.send_error(404)
                return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Vary", "Accept")
        super().end_headers()


class StaticServer(BackgroundServer):
    """The static index trees on 127.0.0.1 (``start()``/``stop()`` from ``BackgroundServer``)."""

    def __init__(self, root: str) -> None:
        super().__init__(("127.0.0.1", 0), functools.partial(StaticHandler, directory=root))


def _html_page(files: list) -> str:
    lines = ['<!DOCTYPE html>', '<html lang="en">', '<head><title>Links for uv</title></head>', '<body>',
             '<h1>Links for uv</h1>']
    for item in files:
        attrs = 'href="%s#sha256=%s" rel="internal"' % (html.escape(item["url"]), item["sha256"])
        if item.get("yanked"):
            attrs += ' data-yanked="%s"' % html.escape(item["yanked"])
        lines.append('<a %s>%s</a><br/>' % (attrs, html.escape(item["filename"])))
    lines += ['</body>', '</html>', '']
    return "\n".join(lines)


def _json_page(files: list) -> str:
    entries = [{"filename": f["filename"], "url": f["url"], "hashes": {"sha256": f["sha256"]},
                "yanked": f.get("yanked") or False} for f in files]
    return json.dumps({"meta": {"api-version": "1.0"}, "name": "uv", "files": entries}, indent=1) + "\n"


def _version_key(name: str) -> tuple:
    return tuple(int(x) for x in wheel_tags(name)[0].split("."))


def build_static(out: str, wheels: dict) -> dict:
    """Lay out the static trees under ``out`` (Nexus-like ``<root>/simple/uv/`` and
    ``<root>/packages/uv/<version>/<file>``); returns a manifest (also manifest.json)."""
    manifest_path = os.path.join(out, "manifest.json")
    names = sorted(os.path.basename(p) for p in wheels.values())
    if os.path.exists(manifest_path):
        with open(manifest_path) as handle:
            manifest = json.load(handle)
        if manifest.get("wheels") == names and manifest.get("schema") == 1:
            return manifest
    staging = out + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    manifest = {"schema": 1, "wheels": names, "sha256": {}, "roots": {}}
    for path in sorted(wheels.values(), key=os.path.basename):
        manifest["sha256"][os.path.basename(path)] = sha256_file(path)
    for root, dialects in (("yanked", ("html",)), ("yanked-json", ("html", "json")), ("tampered", ("html",))):
        files = []
        for path in sorted(wheels.values(), key=lambda p: (_version_key(os.path.basename(p)), os.path.basename(p))):
            name = os.path.basename(path)
            version = wheel_tags(name)[0]
            if root == "tampered" and version == YANKED:
                continue
            folder = os.path.join(staging, root, "packages", "uv", version)
            os.makedirs(folder, exist_ok=True)
            os.link(path, os.path.join(folder, name))
            digest = manifest["sha256"][name]
            if root == "tampered" and version == TAMPERED_VERSION:
                digest = hashlib.sha256(b"tampered:" + digest.encode()).hexdigest()
            item = {"filename": name, "url": "../../packages/uv/%s/%s" % (version, name), "sha256": digest}
            if root != "tampered" and version == YANKED:
                item["yanked"] = YANK_REASON
            files.append(item)
        page = os.path.join(staging, root, "simple", "uv")
        os.makedirs(page)
        with open(os.path.join(page, "index.html"), "w") as handle:
            handle.write(_html_page(files))
        if "json" in dialects:
            with open(os.path.join(page, "index.json"), "w") as handle:
                handle.write(_json_page(files))
        with open(os.path.join(staging, root, "simple", "index.html"), "w") as handle:
            handle.write('<!DOCTYPE html>\n<html><body>\n<a href="uv/">uv</a>\n</body></html>\n')
        manifest["roots"][root] = {"dialects": list(dialects), "files": files}
    with open(os.path.join(staging, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(staging, out)
    return manifest


# -- the indexes -----------------------------------------------------------------

@dataclasses.dataclass
class Index:
    """One index as the tests see it: every URL is a front's, never a backend's.

    ``url``/``stats``: the plain index (its simple root, ``<url>uv/`` is the project page)
    and its front's ``/_stats`` (``/_reset`` beside it). ``auth_url``/``auth_stats``: the
    same index behind a front that demands Basic auth with ``username``/``password``.
    ``yanked_url``/``yanked_stats``: an index that also holds 0.13.9, yanked.
    ``tampered_url``: an index whose 0.5.11 wheels are listed with a wrong sha256.
    """

    kind: str
    url: str
    stats: str
    auth_url: str
    auth_stats: str
    username: str
    password: str
    dialects: tuple
    versions: tuple = PLAIN_VERSIONS
    yanked_url: str | None = None
    yanked_stats: str | None = None
    yanked_version: str = YANKED
    tampered_url: str | None = None
    tampered_stats: str | None = None
    tampered_version: str = TAMPERED_VERSION
    json_url: str | None = None  # static only: yanked-json/, the yanked tree negotiated to PEP 691 JSON
    backend: str = ""
    server_version: str = ""
    files: dict = dataclasses.field(default_factory=dict)  # wheel name -> real sha256

    def ansible_vars(self) -> dict:
        """The variables of tests/integration/targets/uv_install/tasks/index.yml."""
        out = {"uv_index": self.url, "uv_index_stats": self.stats, "uv_index_kind": self.kind,
               "uv_index_auth": self.auth_url, "uv_index_auth_stats": self.auth_stats,
               "uv_index_username": self.username, "uv_index_password": self.password}
        if self.yanked_url:
            out.update(uv_index_yanked=self.yanked_url, uv_index_yanked_version=self.yanked_version)
        if self.tampered_url:
            out.update(uv_index_tampered=self.tampered_url, uv_index_tampered_version=self.tampered_version)
        return out

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(path: str, lines: int = 25) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def _wait_http(url: str, proc: subprocess.Popen, logfile: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s before answering:\n%s"
                               % (proc.args[0], proc.returncode, _tail(logfile)))
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                answer.read()
                return
        except (urllib.error.URLError, OSError):
            pass
        if time.time() > deadline:
            raise RuntimeError("%s did not answer %s within %ds:\n%s" % (proc.args[0], url, timeout, _tail(logfile)))
        time.sleep(0.1)


@contextlib.contextmanager
def _backend(argv: list, logfile: str, ready_url: str):
    """Start a server process (its own session, output to ``logfile``); always stop it."""
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        _wait_http(ready_url, proc, logfile)
        yield proc
    finally:
        _stop(proc)


def fetch_tool_wheels(wheels: str | None = None) -> list:
    """The paths of ``TOOL_WHEELS`` (ruff's and ty's), downloading what is missing (shared cache)."""
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    return [uvmirror.fetch_wheel(version, platform, wheels, tool) for tool, version, platform in TOOL_WHEELS]


def _plain_wheels(wheels: dict) -> list:
    """What pypiserver and devpi root/dev hold: uv's plain versions and the other tools' wheels."""
    uv = [path for (version, _platform), path in sorted(wheels.items()) if version in PLAIN_VERSIONS]
    return uv + fetch_tool_wheels(os.path.dirname(uv[0]) if uv else None)


def _new_password() -> str:
    return "pw-" + secrets.token_urlsafe(12)


@contextlib.contextmanager
def static_index(wheels: dict | None = None):
    """The static trees behind a counting front; yields ``(Index, backend_url)``.

    The Index's ``url`` is the HTML-only ``yanked/`` root, ``yanked_url`` the same tree,
    ``tampered_url`` the ``tampered/`` root; ``extra["json"]`` names ``yanked-json/``.
    """
    wheels = wheels or fetch_wheels()
    with cache_lock("index-static"):
        manifest = build_static(os.path.join(cache_dir(), "index-static"), wheels)
    server = StaticServer(os.path.join(cache_dir(), "index-static")).start()
    try:
        backend = server.server_address[:2]
        user, password = "uvtest", _new_password()
        with front(backend) as plain, front(backend, (user, password)) as auth:
            index = Index(
                kind="static", url=plain.url + "/yanked/simple/", stats=plain.url + "/_stats",
                auth_url=auth.url + "/yanked/simple/", auth_stats=auth.url + "/_stats",
                username=user, password=password, dialects=("html",), versions=(OLD, NEW, YANKED),
                yanked_url=plain.url + "/yanked/simple/", yanked_stats=plain.url + "/_stats",
                tampered_url=plain.url + "/tampered/simple/", tampered_stats=plain.url + "/_stats",
                backend="http://%s:%d" % backend, server_version="uvindex-static/1",
                files=dict(manifest["sha256"]), json_url=plain.url + "/yanked-json/simple/",
            )
            yield index
    finally:
        server.stop()


@contextlib.contextmanager
def pypiserver_index(wheels: dict | None = None, static: Index | None = None, extra: tuple = ()):
    """pypiserver with 0.5.11 and 0.13.8 behind a plain and a Basic-auth front; yields an Index.

    ``extra`` lists more distribution files to publish beside uv's (the uv_config fleet
    proof publishes a real ``packaging`` wheel, see ``fetch_package``).

    ``--disable-fallback``: without it pypiserver redirects a project it does not hold
    to the public index. ``yanked_url``/``tampered_url`` come from ``static`` (pypiserver
    cannot yank) when it is given.
    """
    wheels = wheels or fetch_wheels()
    path = venv("pypiserver", PYPISERVER_REQUIREMENTS)
    with tempfile.TemporaryDirectory(prefix="uvindex-pypiserver-") as tmp:
        packages = os.path.join(tmp, "packages")
        os.makedirs(packages)
        files = {}
        for wheel in _plain_wheels(wheels) + list(extra):
            os.link(wheel, os.path.join(packages, os.path.basename(wheel)))
            files[os.path.basename(wheel)] = sha256_file(wheel)
        port = free_port()
        argv = [os.path.join(path, "bin", "pypi-server"), "run", "--host", "127.0.0.1", "--port", str(port),
                "--authenticate", ".", "--passwords", ".", "--disable-fallback", "--hash-algo", "sha256",
                "--backend", "simple-dir", packages]
        with _backend(argv, os.path.join(tmp, "server.log"), "http://127.0.0.1:%d/health" % port):
            user, password = "uvtest", _new_password()
            with front(("127.0.0.1", port)) as plain, front(("127.0.0.1", port), (user, password)) as auth:
                yield Index(
                    kind="pypiserver", url=plain.url + "/simple/", stats=plain.url + "/_stats",
                    auth_url=auth.url + "/simple/", auth_stats=auth.url + "/_stats",
                    username=user, password=password, dialects=("html",),
                    yanked_url=static.yanked_url if static else None,
                    yanked_stats=static.yanked_stats if static else None,
                    tampered_url=static.tampered_url if static else None,
                    tampered_stats=static.tampered_stats if static else None,
                    backend="http://127.0.0.1:%d" % port,
                    server_version="pypiserver " + installed_version(path, "pypiserver"), files=files,
                )


def _devpi_call(base: str, method: str, path: str, auth: tuple, data: bytes | None = None,
                content_type: str = "application/json") -> bytes:
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError("devpi %s %s: HTTP %s %s" % (method, path, exc.code, exc.read()[:500])) from None


def _devpi_upload(base: str, index: str, wheel: str, auth: tuple) -> None:
    """One ``file_upload`` through devpi's upload API (what twine sends)."""
    name = os.path.basename(wheel)
    project, version = name.split("-")[:2]  # uv-0.13.8-py3-none-..., ruff-0.17.6-py3-none-...
    boundary = "uvindex" + secrets.token_hex(12)
    parts = []
    for key, value in ((":action", "file_upload"), ("name", project), ("version", version),
                       ("filetype", "bdist_wheel"), ("pyversion", "py3")):
        parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                      % (boundary, key, value)).encode())
    with open(wheel, "rb") as handle:
        content = handle.read()
    parts.append(('--%s\r\nContent-Disposition: form-data; name="content"; filename="%s"\r\n'
                  'Content-Type: application/octet-stream\r\n\r\n' % (boundary, name)).encode() + content + b"\r\n")
    parts.append(("--%s--\r\n" % boundary).encode())
    _devpi_call(base, "POST", "/%s/" % index, auth, b"".join(parts), "multipart/form-data; boundary=" + boundary)


def _devpi_argv(path: str, serverdir: str, port: int) -> list:
    return [os.path.join(path, "bin", "devpi-server"), "--serverdir", serverdir, "--host", "127.0.0.1",
            "--port", str(port), "--argon2-time-cost", "1", "--argon2-memory-cost", "8",
            "--argon2-parallelism", "1", "--threads", "8", "--mirror-cache-expiry", "3600"]


def devpi_template(path: str, wheels: dict) -> tuple:
    """A stopped devpi server directory with ``root/dev`` and the plain wheels uploaded,
    made once per venv and wheel set; returns ``(serverdir, root_password, {wheel: sha256})``.

    Uploading ~120 MB of wheels costs seconds at every start; a copy of a prepared
    directory (files hard-linked, the database copied) costs a fraction of one.
    """
    plain = _plain_wheels(wheels)
    key = hashlib.sha256(json.dumps([path, sorted(os.path.basename(w) for w in plain), 1]).encode()).hexdigest()[:12]
    top = os.path.join(cache_dir(), "index-devpi-%s" % key)
    done = os.path.join(top, "template.json")
    if not os.path.exists(done):
        with cache_lock("index-devpi-%s" % key):
            _make_devpi_template(path, top, done, plain)
    with open(done) as handle:
        meta = json.load(handle)
    return os.path.join(top, "server"), meta["root_password"], meta["files"]


def _make_devpi_template(path: str, top: str, done: str, plain: list) -> None:
    if not os.path.exists(done):
        shutil.rmtree(top, ignore_errors=True)
        os.makedirs(top)
        serverdir = os.path.join(top, "server")
        root_auth = ("root", _new_password())
        logfile = os.path.join(top, "build.log")
        t0 = time.time()
        with open(logfile, "ab") as out:
            subprocess.run([os.path.join(path, "bin", "devpi-init"), "--serverdir", serverdir, "--no-root-pypi",
                            "--root-passwd", root_auth[1]], check=True, stdout=out, stderr=subprocess.STDOUT)
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        files = {}
        with _backend(_devpi_argv(path, serverdir, port), logfile, base + "/+api"):
            _devpi_call(base, "PUT", "/root/dev", root_auth,
                        json.dumps({"type": "stage", "bases": [], "volatile": True}).encode())
            for wheel in plain:
                _devpi_upload(base, "root/dev", wheel, root_auth)
                files[os.path.basename(wheel)] = sha256_file(wheel)
        with open(done + ".tmp", "w") as handle:
            json.dump({"root_password": root_auth[1], "files": files}, handle, indent=1)
        os.rename(done + ".tmp", done)
        log("devpi-server template %s made in %.1fs" % (top, time.time() - t0))


def _copy_serverdir(source: str, dest: str) -> None:
    """Copy a stopped devpi server directory: stored files hard-linked (devpi never rewrites
    one), everything else (the sqlite database, node info) copied."""
    def copy(src, dst):
        if os.sep + "+files" + os.sep in src:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)
    shutil.copytree(source, dest, copy_function=copy)


@contextlib.contextmanager
def devpi_index(wheels: dict | None = None, static_backend: str | None = None, static: Index | None = None):
    """devpi-server: ``root/dev`` (private, no bases: 0.5.11 and 0.13.8 uploaded) behind a
    plain and a Basic-auth front; with ``static_backend`` also ``root/yanked``, a mirror
    index of the static ``yanked/`` tree (devpi passes the yanked flags on), as
    ``yanked_url``. Yields an Index.

    ``--no-root-pypi``: no mirror of the public index exists, and no index has bases, so
    devpi never reaches past loopback. The argon2 cost options (hidden, what devpi's own
    tests lower) cut the start from ~15 s of key derivation with 512 MiB to ~2 s.

    What devpi serves (6.20): JSON when the client prefers it, else HTML; an ``Accept``
    naming neither ``text/html`` nor the JSON type (``application/json``, or the PEP 691
    HTML type alone) still gets HTML but labelled ``Content-Type: text_html`` (sic). Mirror
    index pages show clients whose User-Agent is not an installer's (pip, uv, ...) a
    refresh form with an absolute URL before the links.
    """
    wheels = wheels or fetch_wheels()
    path = venv("devpi", DEVPI_REQUIREMENTS)
    template, root_password, files = devpi_template(path, wheels)
    root_auth = ("root", root_password)
    with tempfile.TemporaryDirectory(prefix="uvindex-devpi-") as tmp:
        serverdir = os.path.join(tmp, "server")
        _copy_serverdir(template, serverdir)
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        with _backend(_devpi_argv(path, serverdir, port), os.path.join(tmp, "server.log"), base + "/+api"):
            if static_backend:
                _devpi_call(base, "PUT", "/root/yanked", root_auth, json.dumps({
                    "type": "mirror", "mirror_url": static_backend + "/yanked/simple/",
                    "mirror_no_project_list": True, "volatile": True}).encode())
            user, password = "uvtest", _new_password()
            with front(("127.0.0.1", port)) as plain, front(("127.0.0.1", port), (user, password)) as auth:
                yield Index(
                    kind="devpi", url=plain.url + "/root/dev/+simple/", stats=plain.url + "/_stats",
                    auth_url=auth.url + "/root/dev/+simple/", auth_stats=auth.url + "/_stats",
                    username=user, password=password, dialects=("json", "html"),
                    yanked_url=plain.url + "/root/yanked/+simple/" if static_backend else None,
                    yanked_stats=plain.url + "/_stats" if static_backend else None,
                    tampered_url=static.tampered_url if static else None,
                    tampered_stats=static.tampered_stats if static else None,
                    backend=base, server_version="devpi-server " + installed_version(path, "devpi-server"),
                    files=dict(files),
                )


@contextlib.contextmanager
def indexes(kinds=("static", "pypiserver", "devpi")):
    """Start the wanted indexes (the static trees first: the others borrow its yanked and
    tampered roots); yields ``{kind: Index}``; everything is stopped on every path."""
    wheels = fetch_wheels()
    with contextlib.ExitStack() as stack:
        out = {}
        started = time.time()
        static = stack.enter_context(static_index(wheels))
        if "static" in kinds:
            out["static"] = static
        if "pypiserver" in kinds:
            t0 = time.time()
            out["pypiserver"] = stack.enter_context(pypiserver_index(wheels, static=static))
            log("pypiserver ready in %.1fs" % (time.time() - t0))
        if "devpi" in kinds:
            t0 = time.time()
            out["devpi"] = stack.enter_context(devpi_index(wheels, static_backend=static.backend, static=static))
            log("devpi-server ready in %.1fs" % (time.time() - t0))
        log("indexes ready in %.1fs" % (time.time() - started))
        yield out


# -- a tiny client for the self-test and the recorder ---------------------------------

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


HREF = re.compile(r'<a\s+([^>]*)>([^<]*)</a>', re.I)
ATTR = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')


def parse_page(body: bytes, content_type: str, page_url: str) -> list:
    """Files of a project page, either dialect: ``[{filename, url, sha256, yanked}]`` (for the self-test only)."""
    out = []
    if content_type.split(";")[0].strip() == JSON_TYPE:
        for item in json.loads(body)["files"]:
            out.append({"filename": item["filename"], "url": urllib.parse.urljoin(page_url, item["url"]),
                        "sha256": item.get("hashes", {}).get("sha256"), "yanked": item.get("yanked", False)})
        return out
    for attrs, text in HREF.findall(body.decode()):
        found = dict(ATTR.findall(attrs))
        href = html.unescape(found.get("href", ""))
        url, _sep, fragment = href.partition("#")
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        yanked = html.unescape(found["data-yanked"]) if "data-yanked" in found else False
        out.append({"filename": html.unescape(text).strip(), "url": urllib.parse.urljoin(page_url, url),
                    "sha256": sha, "yanked": yanked or (True if "data-yanked" in found else False)})
    return out


# -- commands --------------------------------------------------------------------

def reset(stats_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(stats_url.replace("/_stats", "/_reset"), method="POST"),
                           timeout=10).read()


def stats(stats_url: str) -> dict:
    with urllib.request.urlopen(stats_url, timeout=10) as answer:
        return json.load(answer)


class Checks:
    """Counts the self-test's checks; ``failures`` lists the failed ones."""

    def __init__(self) -> None:
        self.passed = 0
        self.failures: list = []

    def append(self, message: str) -> None:
        self.failures.append(message)


def _check(ok: bool, message: str, checks: Checks) -> None:
    log(("ok   " if ok else "FAIL ") + message)
    if ok:
        checks.passed += 1
    else:
        checks.append(message)


def selftest_index(index: Index, failures: Checks) -> None:
    """Pages in both dialects, one wheel through the front, hashes, counts, auth, yanked, tampered."""
    real = index.files
    project = index.url + "uv/"
    reset(index.stats)
    t0 = time.time()
    status, headers, body, final = get(project, UV_ACCEPT)
    page_seconds = time.time() - t0
    ctype = headers.get("Content-Type", "")
    files = parse_page(body, ctype, final)
    _check(status == 200 and files, "%s: project page with uv's Accept: %s, %s, %d files, %d bytes, %.3fs"
           % (index.kind, status, ctype, len(files), len(body), page_seconds), failures)
    want_json = "json" in index.dialects
    _check(ctype.startswith(JSON_TYPE) == want_json, "%s: uv's Accept gives %s" % (index.kind, ctype), failures)
    status, headers, html_body, final_html = get(project, "text/html")
    _check(status == 200 and headers.get("Content-Type", "").startswith("text/html"),
           "%s: text/html gives %s" % (index.kind, headers.get("Content-Type")), failures)
    html_files = parse_page(html_body, headers.get("Content-Type", ""), final_html)
    same = sorted((f["filename"], f["sha256"]) for f in html_files) == sorted((f["filename"], f["sha256"]) for f in files)
    _check(same, "%s: both dialects list the same files and hashes" % index.kind, failures)
    _check(all(f["sha256"] == real.get(f["filename"]) for f in files) and {f["filename"] for f in files} == set(real),
           "%s: every listed sha256 is the real one (%d files)" % (index.kind, len(files)), failures)
    wheel = next(f for f in files if f["filename"].startswith("uv-%s-" % NEW) and "manylinux2014_x86_64" in f["filename"])
    t0 = time.time()
    status, headers, data, _final = get(wheel["url"])
    _check(status == 200 and hashlib.sha256(data).hexdigest() == real[wheel["filename"]],
           "%s: %s through the front: %d bytes, sha256 ok, %.2fs"
           % (index.kind, wheel["filename"], len(data), time.time() - t0), failures)
    seen = stats(index.stats)
    _check(seen["requests"] == 3 and seen["bytes"] == len(body) + len(html_body) + len(data),
           "%s: the front counted %d requests, %d bytes" % (index.kind, seen["requests"], seen["bytes"]), failures)
    # Redirect for the slashless project URL: Location must name the front.
    status, headers, _body, final = get(index.url + "uv", "text/html")
    _check(status == 200 and final.startswith(index.url), "%s: %suv redirects to %s" % (index.kind, index.url, final),
           failures)
    # Basic auth.
    reset(index.auth_stats)
    status, _h, _b, _u = get(index.auth_url + "uv/", UV_ACCEPT)
    _check(status == 401, "%s: the auth front without credentials answers %s" % (index.kind, status), failures)
    status, headers, body, final = get(index.auth_url + "uv/", UV_ACCEPT, (index.username, index.password))
    auth_files = parse_page(body, headers.get("Content-Type", ""), final)
    status2 = get(auth_files[0]["url"], None, (index.username, index.password), method="HEAD")[0] if auth_files else 0
    seen = stats(index.auth_stats)
    _check(status == 200 and status2 == 200 and index.password not in json.dumps(seen),
           "%s: the auth front with credentials: page %s, HEAD file %s; stats hold no password" % (
               index.kind, status, status2), failures)
    if index.yanked_url:
        for accept in (UV_ACCEPT, "text/html"):
            status, headers, body, final = get(index.yanked_url + "uv/", accept)
            got = parse_page(body, headers.get("Content-Type", ""), final)
            yanked = sorted({f["filename"].split("-")[1] for f in got if f["yanked"]})
            _check(status == 200 and yanked == [YANKED],
                   "%s: yanked index (%s) marks %s yanked" % (index.kind, headers.get("Content-Type"), yanked), failures)
        # A wheel of the yanked index through its front (for devpi: fetched from the static tree by the mirror).
        item = next(f for f in got if f["filename"].startswith("uv-%s-" % YANKED))
        status, _h, data, _u = get(item["url"])
        _check(status == 200 and hashlib.sha256(data).hexdigest() == item["sha256"],
               "%s: yanked %s served, sha256 ok" % (index.kind, item["filename"]), failures)
    if index.tampered_url:
        status, headers, body, final = get(index.tampered_url + "uv/", UV_ACCEPT)
        got = parse_page(body, headers.get("Content-Type", ""), final)
        wrong = sorted(f["filename"] for f in got if f["sha256"] != real.get(f["filename"], f["sha256"]))
        _check(wrong and all(n.startswith("uv-%s-" % TAMPERED_VERSION) for n in wrong),
               "%s: tampered index lists %d wheels of %s with a wrong sha256" % (index.kind, len(wrong),
                                                                                 TAMPERED_VERSION), failures)
    status, _h, _b, _u = get(index.url + "nosuchproject/", UV_ACCEPT)
    _check(status == 404, "%s: an unknown project answers %s (no fallback elsewhere)" % (index.kind, status),
           failures)


def cmd_selftest(_args) -> int:
    """Start each index, check what it serves through its fronts, and report timings."""
    checks = Checks()
    timings = {}

    def timed(name, func, *args, **kwargs):
        t0 = time.time()
        result = func(*args, **kwargs)
        timings[name] = time.time() - t0
        return result

    wheels = timed("wheels", fetch_wheels)
    timed("venv pypiserver", venv, "pypiserver", PYPISERVER_REQUIREMENTS)
    timed("venv devpi", venv, "devpi", DEVPI_REQUIREMENTS)
    with cache_lock("index-static"):
        timed("static tree", build_static, os.path.join(cache_dir(), "index-static"), wheels)
    for kind in ("pypiserver", "devpi"):
        with contextlib.ExitStack() as stack:
            static = stack.enter_context(static_index(wheels))
            if kind == "pypiserver":
                index = timed("start pypiserver", stack.enter_context, pypiserver_index(wheels, static=static))
            else:
                index = timed("start devpi", stack.enter_context,
                              devpi_index(wheels, static_backend=static.backend, static=static))
            log("%s (%s) at %s" % (index.kind, index.server_version, index.url))
            selftest_index(index, checks)
            if kind == "pypiserver":
                selftest_index(static, checks)
                static_json = dataclasses.replace(static, url=static.json_url, dialects=("json", "html"),
                                                  yanked_url=static.json_url, tampered_url=None,
                                                  files=dict(static.files))
                selftest_index(static_json, checks)
            stopping = time.time()
        timings["stop " + kind] = time.time() - stopping
    for name, seconds in timings.items():
        log("timing %-18s %.2fs" % (name, seconds))
    for name, reqs in (("pypiserver", PYPISERVER_REQUIREMENTS), ("devpi", DEVPI_REQUIREMENTS)):
        path = venv(name, reqs)
        size = subprocess.run(["du", "-sm", path], capture_output=True, text=True, check=False).stdout.split()[0]
        log("venv %s: %s MB" % (path, size))
    print("selftest: %d passed, %d failed" % (checks.passed, len(checks.failures)))
    for failure in checks.failures:
        print("FAILED: " + failure)
    return 1 if checks.failures else 0


def cmd_serve(args) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with indexes(tuple(args.kinds.split(","))) as found:
        info = {kind: index.as_dict() for kind, index in found.items()}
        text = json.dumps(info, indent=1)
        if args.infofile:
            with open(args.infofile + ".tmp", "w") as handle:
                handle.write(text)
            os.rename(args.infofile + ".tmp", args.infofile)
        print(text, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def cmd_fetch(args) -> int:
    for (version, platform), path in fetch_wheels(args.wheels).items():
        print("%-7s %-24s %s" % (version, platform, os.path.basename(path)))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download the uv wheels into the shared cache")
    f.add_argument("--wheels", default=os.path.join(cache_dir(), "wheels"))
    s = sub.add_parser("serve", help="start the indexes, print their URLs as JSON, stop on SIGTERM")
    s.add_argument("--kinds", default="static,pypiserver,devpi")
    s.add_argument("--infofile", help="also write the JSON here (atomically) once everything answers")
    sub.add_parser("selftest", help="start each index and check what it serves")
    r = sub.add_parser("record", help="record the unit test fixtures from the running servers")
    r.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                 "unit", "plugins", "module_utils", "fixtures", "index"))
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return cmd_fetch(args)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "record":
        return cmd_record(args)
    return cmd_selftest(args)


def artifactory_page(wheels: list, host: str = "https://artifactory.example.com/artifactory/api/pypi/pypi-remote") -> str:
    """An Artifactory remote repository's project page for the wheel files ``wheels``, with
    absolute URLs (what it serves when a base URL is configured; without one it serves the same
    path relative, ``../../packages/packages/...``). Its file URLs mirror the public index's
    storage paths, ``packages/<b2[:2]>/<b2[2:4]>/<b2[4:]>/<file>`` where ``b2`` is the file's
    blake2b-256; its anchors are split over two lines, with ``rel="internal"``, and
    ``data-requires-python`` passed on HTML-escaped."""
    lines = ["<!DOCTYPE html>", "<html>", "", "<head>", "    <title>Simple Index</title>",
             '    <meta name="api-version" value="2" />', "</head>", "", "<body>"]
    for path in sorted(wheels, key=lambda p: (_version_key(os.path.basename(p)), os.path.basename(p))):
        name, digest = os.path.basename(path), sha256_file(path)
        with open(path, "rb") as handle:
            b2 = hashlib.blake2b(handle.read(), digest_size=32).hexdigest()
        lines.append('    <a href="%s/packages/packages/%s/%s/%s/%s#sha256=%s" data-requires-python="&gt;=3.8"'
                     % (host, b2[:2], b2[2:4], b2[4:], name, digest))
        lines.append('        rel="internal">%s</a>' % name)
    lines += ["</body>", "", "</html>"]
    return "\n".join(lines)


def cmd_record(args) -> int:
    """Record the project pages the unit tests parse, from freshly started servers."""
    os.makedirs(args.out, exist_ok=True)
    pages = {}

    def record(name: str, url: str, accept: str, server: str, note: str) -> None:
        status, headers, body, final = get(url, accept)
        if status != 200:
            raise RuntimeError("%s answered %s" % (url, status))
        with open(os.path.join(args.out, name), "wb") as handle:
            handle.write(body)
        pages[name] = {"page_url": final, "content_type": headers.get("Content-Type"), "accept": accept,
                       "server": server, "note": note}
        log("recorded %s (%d bytes, %s)" % (name, len(body), headers.get("Content-Type")))

    with indexes() as found:
        devpi, pypi, static = found["devpi"], found["pypiserver"], found["static"]
        record("devpi-root-dev.json", devpi.url + "uv/", UV_ACCEPT, devpi.server_version,
               "private index root/dev, uv's Accept header")
        record("devpi-root-dev.html", devpi.url + "uv/", "text/html", devpi.server_version,
               "private index root/dev, Accept: text/html")
        record("devpi-mirror-yanked.json", devpi.yanked_url + "uv/", UV_ACCEPT, devpi.server_version,
               "mirror index root/yanked of static-yanked.html (0.13.9 yanked), uv's Accept header")
        record("devpi-mirror-yanked.html", devpi.yanked_url + "uv/", "text/html", devpi.server_version,
               "mirror index root/yanked of static-yanked.html (0.13.9 yanked), Accept: text/html")
        record("pypiserver.html", pypi.url + "uv/", UV_ACCEPT, pypi.server_version,
               "uv's Accept header (pypiserver answers HTML whatever is asked)")
        record("static-yanked.html", static.yanked_url + "uv/", UV_ACCEPT, static.server_version,
               "tests/utils/uvindex.py's Nexus-like static tree, 0.13.9 yanked")
        record("static-yanked.json", static.json_url + "uv/", UV_ACCEPT, static.server_version,
               "the same tree with its PEP 691 JSON page")
        name = "artifactory-absolute.html"
        with open(os.path.join(args.out, name), "w") as handle:
            handle.write(artifactory_page(list(fetch_wheels().values())))
        pages[name] = {"page_url": "https://artifactory.example.com/artifactory/api/pypi/pypi-remote/simple/uv/",
                       "content_type": "text/html;charset=utf-8", "accept": UV_ACCEPT,
                       "server": "hand-written (tests/utils/uvindex.py artifactory_page)",
                       "note": "absolute URLs, #sha256= fragments, anchors over two lines"}
        sha256 = dict(sorted(static.files.items()))
    with open(os.path.join(args.out, "pages.json"), "w") as handle:
        json.dump({"pages": pages, "sha256": sha256}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
