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

The rooms: this file holds the indexes (``Index``, ``static_index``, ``pypiserver_index``,
``devpi_index``, ``indexes``) and the commands; ``uvindex_wheels.py`` the wheels, the servers'
venvs and the cache lock; ``uvindex_front.py`` the counting front and its client (``get``,
``reset``, ``stats``); ``uvindex_static.py`` the static tree and its server; ``uvindex_check.py``
``selftest`` and ``record``.

Library use (hacking/suite/integration.py)::

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
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uvindex_front import free_port, front  # noqa: E402  pylint: disable=wrong-import-position
from uvindex_static import TAMPERED_VERSION, StaticServer, build_static  # noqa: E402  pylint: disable=wrong-import-position
from uvindex_wheels import (DEVPI_REQUIREMENTS, NEW, OLD, PLAIN_VERSIONS,  # noqa: E402  pylint: disable=wrong-import-position
                            PYPISERVER_REQUIREMENTS, YANKED, _plain_wheels, cache_dir, cache_lock, fetch_wheels,
                            installed_version, log, sha256_file, venv)


START_TIMEOUT = 90.0


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
    packages: str = ""  # pypiserver only: the folder it serves (hard links to the cached wheels: replace, never write)

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
                    packages=packages,
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


# -- commands (selftest and record: uvindex_check.py) ----------------------------

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
    from uvindex_check import cmd_record, cmd_selftest  # pylint: disable=import-outside-toplevel  # it imports this module
    if args.command == "fetch":
        return cmd_fetch(args)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "record":
        return cmd_record(args)
    return cmd_selftest(args)


if __name__ == "__main__":
    sys.exit(main())
