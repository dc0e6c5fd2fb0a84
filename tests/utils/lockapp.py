# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small application, a real loopback index and a real uv.lock, for the controller's lock reader.

- ``WHEELS``: real wheels from venvindex's cache (``~/.cache/pyfleet-uv/wheels``, downloaded once
  with pip when missing): MarkupSafe 2.1.5 and PyYAML 6.0.2 compiled for CPython 3.9 on x86_64,
  aarch64 and i686 (PyYAML has no i686 wheel) and for 3.11 on x86_64, and pure ones.
- ``build_made(dest)``: small wheels and one sdist written here (no binaries committed):
  ``fleetlib`` (extras ``speed`` -> attrs, ``unused`` -> click), ``fastpath`` (compiled-style
  ``cp39-abi3`` wheels for ``manylinux_2_34`` x86_64 and aarch64 only), ``winonly`` (pure, needed on
  Windows only) and ``oldlib`` (an sdist with static metadata, no wheel).
- ``LockIndex``: a PEP 691 JSON / PEP 503 HTML index on 127.0.0.1 (file links carry sha256 and size,
  as pypiserver-like indexes and PEP 700 give them) that counts every request, may demand Basic
  auth, may redirect file downloads to a second server on another port (another origin), and may
  serve tampered bytes for chosen files.
- ``write_app(root, index_url)`` and ``lock(uv, root, index_url)``: the application's pyproject.toml
  (markers, extras, a dev group and a docs group) and its uv.lock, made by the real uv.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import venvindex  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils
from uvmirror import BackgroundServer  # noqa: E402  pylint: disable=wrong-import-position  # tests/utils

PURE = ("six==1.16.0", "python-dateutil==2.9.0.post0", "iniconfig==2.0.0", "tomli==2.0.2", "zipp==3.20.2",
        "importlib-metadata==8.5.0", "jinja2==3.1.4", "attrs==24.2.0", "click==8.1.7", "tabulate==0.9.0",
        "typing-extensions==4.12.2")
# (project, series, arch): the compiled wheels, as venvindex.fetch_compiled finds them.
COMPILED = (("markupsafe==2.1.5", "3.9", "x86_64"), ("markupsafe==2.1.5", "3.9", "aarch64"),
            ("markupsafe==2.1.5", "3.9", "i686"), ("markupsafe==2.1.5", "3.11", "x86_64"),
            ("pyyaml==6.0.2", "3.9", "x86_64"), ("pyyaml==6.0.2", "3.9", "aarch64"),
            ("pyyaml==6.0.2", "3.11", "x86_64"))

PYPROJECT = """\
[project]
name = "fleetapp"
version = "1.0.0"
requires-python = ">=3.9"
dependencies = [
    "jinja2>=3.1",
    "python-dateutil",
    "importlib-metadata>=8; python_version < '3.10'",
    "tomli; python_version < '3.11'",
    "winonly; sys_platform == 'win32'",
    "fleetlib[speed]",
]

[project.optional-dependencies]
yaml = ["pyyaml"]
fast = ["fastpath"]
legacy = ["oldlib"]

[dependency-groups]
dev = ["iniconfig"]
docs = ["tabulate"]

[build-system]
requires = ["flit_core>=3.2,<5"]
build-backend = "flit_core.buildapi"
"""


def real_wheels() -> list:
    """Paths of the real wheels the index serves (cached; pip downloads a missing one once)."""
    wheels = os.path.join(venvindex.cache_dir(), "wheels")
    paths = venvindex.fetch(PURE + ("flit_core==4.1.0",), wheels)
    paths += [venvindex.fetch_compiled(project, series, arch, wheels) for project, series, arch in COMPILED]
    return paths


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def make_wheel(dest: str, name: str, version: str, tag: str, requires=(), extras=None, pure: bool = True) -> str:
    """A real (installable) wheel ``<name>-<version>-<tag>.whl`` with one module and its METADATA."""
    dist = name.replace("-", "_")
    info = "%s-%s.dist-info" % (dist, version)
    metadata = ["Metadata-Version: 2.1", "Name: %s" % name, "Version: %s" % version, "Requires-Python: >=3.9"]
    metadata += ["Requires-Dist: %s" % requirement for requirement in requires]
    for extra, needs in sorted((extras or {}).items()):
        metadata.append("Provides-Extra: %s" % extra)
        metadata += ['Requires-Dist: %s; extra == "%s"' % (need, extra) for need in needs]
    files = {
        "%s/__init__.py" % dist: ("VERSION = %r\n" % version).encode(),
        info + "/METADATA": ("\n".join(metadata) + "\n").encode(),
        info + "/WHEEL": ("Wheel-Version: 1.0\nGenerator: pyfleet-tests\nRoot-Is-Purelib: %s\nTag: %s\n"
                          % ("true" if pure else "false", tag)).encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()]
    files[info + "/RECORD"] = ("\n".join(record + [info + "/RECORD,,"]) + "\n").encode()
    out = os.path.join(dest, "%s-%s-%s.whl" % (dist, version, tag))
    with zipfile.ZipFile(out, "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    return out


def make_sdist(dest: str, name: str, version: str) -> str:
    """An sdist with static metadata (PKG-INFO 2.2, a static ``[project]``): uv locks it without building."""
    base = "%s-%s" % (name, version)
    files = {
        base + "/PKG-INFO": "Metadata-Version: 2.2\nName: %s\nVersion: %s\nRequires-Python: >=3.9\n" % (name, version),
        base + "/pyproject.toml": ('[project]\nname = "%s"\nversion = "%s"\nrequires-python = ">=3.9"\n'
                                   'description = "an sdist only"\n\n[build-system]\nrequires = ["flit_core>=3.2,<5"]\n'
                                   'build-backend = "flit_core.buildapi"\n' % (name, version)),
        base + "/%s/__init__.py" % name: '"""an sdist only"""\n',
    }
    out = os.path.join(dest, base + ".tar.gz")
    with tarfile.open(out, "w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(path)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return out


def build_made(dest: str) -> list:
    """The packages written here (see the module docstring); returns their paths."""
    os.makedirs(dest, exist_ok=True)
    return [
        make_wheel(dest, "fleetlib", "1.0", "py3-none-any", requires=("six",),
                   extras={"speed": ("attrs",), "unused": ("click",)}),
        make_wheel(dest, "fastpath", "1.0", "cp39-abi3-manylinux_2_34_x86_64", pure=False),
        make_wheel(dest, "fastpath", "1.0", "cp39-abi3-manylinux_2_34_aarch64", pure=False),
        make_wheel(dest, "winonly", "1.0", "py3-none-any"),
        make_sdist(dest, "oldlib", "1.0"),
    ]


def project_of(filename: str) -> str:
    """The normalized project name of a wheel or sdist file name."""
    stem = filename[:-len(".tar.gz")] if filename.endswith(".tar.gz") else filename
    return re.sub(r"[-_.]+", "-", stem.split("-")[0]).lower()


def sha256_of(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class LockIndex:
    """A loopback index of ``files`` with a second server (another port: another origin) for files.

    ``requests``: ``[(server, method, path, Authorization header or None)]``, every request.
    ``auth``: ``(user, password)`` that the index (not the file server) demands, or ``None``.
    ``files_elsewhere``: the pages link files on the file server (as an index links its CDN).
    ``redirect_files``: the index answers file requests with a 302 to the file server.
    ``tampered``: file names served with other bytes (same size) by both servers.
    """

    def __init__(self, paths: list) -> None:
        self.files = {os.path.basename(path): path for path in paths}
        self.requests: list = []
        self.lock = threading.Lock()
        self.auth = None
        self.files_elsewhere = False
        self.redirect_files = False
        self.tampered: set = set()
        self.index = self._server("index")
        self.cdn = self._server("cdn")

    def _server(self, role: str):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                owner.handle(role, self)

            def do_HEAD(self) -> None:  # noqa: N802  # uv asks first whether ranges are served (they are not)
                owner.handle(role, self, head=True)

        return BackgroundServer(("127.0.0.1", 0), Handler).start()  # a real index's listen backlog

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/simple/" % self.index.server_address[1]

    @property
    def cdn_url(self) -> str:
        return "http://127.0.0.1:%d" % self.cdn.server_address[1]

    def reset(self) -> None:
        with self.lock:
            self.requests = []

    def file_requests(self) -> list:
        """``(server, file name)`` of every file GET so far."""
        return [(server, path.rsplit("/", 1)[-1]) for server, method, path, _a in self.requests
                if "/files/" in path and method == "GET"]

    def stop(self) -> None:
        for server in (self.index, self.cdn):
            server.shutdown()
            server.server_close()

    def _send(self, handler, status: int, body: bytes = b"", content_type: str = "text/plain", headers=None,
              head: bool = False) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def _bytes(self, name: str) -> bytes:
        with open(self.files[name], "rb") as handle:
            data = handle.read()
        if name in self.tampered:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return data

    def handle(self, role: str, handler, head: bool = False) -> None:
        path = handler.path.split("?", 1)[0]
        with self.lock:
            self.requests.append((role, "HEAD" if head else "GET", path, handler.headers.get("Authorization")))
        if role == "index" and self.auth is not None:
            expected = "Basic " + base64.b64encode(("%s:%s" % self.auth).encode()).decode()
            if handler.headers.get("Authorization") != expected:
                self._send(handler, 401, b"auth", headers={"WWW-Authenticate": 'Basic realm="lockindex"'})
                return
        if path.startswith("/files/"):
            name = path[len("/files/"):]
            if name not in self.files:
                self._send(handler, 404, b"no such file")
            elif role == "index" and self.redirect_files:
                self._send(handler, 302, headers={"Location": "%s/files/%s" % (self.cdn_url, name)})
            else:
                self._send(handler, 200, self._bytes(name), "application/octet-stream", head=head)
            return
        match = re.match(r"^/simple/([^/]+)/?$", path)
        if role != "index" or not match:
            self._send(handler, 404, b"not found")
            return
        project = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        names = sorted(name for name in self.files if project_of(name) == project)
        if not names:
            self._send(handler, 404, b"no such project")
            return
        base = self.cdn_url if self.files_elsewhere else "http://127.0.0.1:%d" % self.index.server_address[1]
        if "application/vnd.pypi.simple.v1+json" in (handler.headers.get("Accept") or ""):
            page = {"meta": {"api-version": "1.1"}, "name": project, "files": [
                {"filename": name, "url": "%s/files/%s" % (base, name), "hashes": {"sha256": sha256_of(self.files[name])},
                 "size": os.path.getsize(self.files[name])} for name in names]}
            self._send(handler, 200, json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json")
            return
        links = "".join('<a href="%s/files/%s#sha256=%s">%s</a><br>\n' % (
            base, html.escape(name), sha256_of(self.files[name]), html.escape(name)) for name in names)
        self._send(handler, 200, ("<!DOCTYPE html><html><body>\n%s</body></html>\n" % links).encode(), "text/html")


def write_app(root: str) -> str:
    """The application's folder (pyproject.toml, a package); returns it."""
    os.makedirs(os.path.join(root, "fleetapp"), exist_ok=True)
    with open(os.path.join(root, "pyproject.toml"), "w") as handle:
        handle.write(PYPROJECT)
    with open(os.path.join(root, "fleetapp", "__init__.py"), "w") as handle:
        handle.write('"""fleetapp"""\n')
    return root


def lock(uv: str, root: str, index_url: str, home: str) -> str:
    """``uv lock`` of the application in ``root`` against ``index_url``; returns the lock's text."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "UV_CACHE_DIR": os.path.join(home, "uv-cache"),
           "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1", "UV_INDEX_URL": index_url}
    out = subprocess.run([uv, "lock", "--directory", root], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("uv lock failed (%d): %s%s" % (out.returncode, out.stdout, out.stderr))
    with open(os.path.join(root, "uv.lock")) as handle:
        return handle.read()


class App:
    """``index`` (a running ``LockIndex``), ``root`` (the application), ``lock_text`` (its uv.lock), ``uv``."""

    def __init__(self, index: LockIndex, root: str, lock_text: str, uv: str) -> None:
        self.index, self.root, self.lock_text, self.uv = index, root, lock_text, uv


def app(tmp: str, uv: str):
    """Build the wheels, start the index, write and lock the application under ``tmp``: an ``App``.

    Stop ``app.index`` when done.
    """
    made = build_made(os.path.join(tmp, "made"))
    index = LockIndex(real_wheels() + made)
    try:
        root = write_app(os.path.join(tmp, "app"))
        text = lock(uv, root, index.url, os.path.join(tmp, "home"))
    except BaseException:
        index.stop()
        raise
    index.reset()
    return App(index, root, text, uv)


def tampered_copy(index: LockIndex, name: str, dest: str) -> str:
    """A file holding the bytes ``index`` serves for the tampered ``name``; returns its path."""
    path = os.path.join(dest, "tampered-" + name)
    with open(path, "wb") as handle:
        handle.write(index._bytes(name))  # pylint: disable=protected-access
    return path


def write_workspace(root: str) -> str:
    """A workspace: the root project ``wsapp`` needs the member ``packages/wslib`` (which needs six) and iniconfig."""
    files = {
        "pyproject.toml": ('[project]\nname = "wsapp"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
                           'dependencies = ["wslib", "iniconfig"]\n\n[tool.uv.sources]\nwslib = { workspace = true }\n\n'
                           '[tool.uv.workspace]\nmembers = ["packages/*"]\n\n[build-system]\n'
                           'requires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n'),
        "wsapp/__init__.py": '"""wsapp"""\n',
        "packages/wslib/pyproject.toml": ('[project]\nname = "wslib"\nversion = "0.2"\nrequires-python = ">=3.9"\n'
                                          'dependencies = ["six"]\n\n[build-system]\nrequires = ["flit_core>=3.2,<5"]\n'
                                          'build-backend = "flit_core.buildapi"\n'),
        "packages/wslib/wslib/__init__.py": '"""wslib"""\n',
    }
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as handle:
            handle.write(text)
    return root
