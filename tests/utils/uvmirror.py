# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build and serve a loopback uv mirror from the real uv wheels on PyPI.

``build`` downloads the uv wheels (cached outside the checkout), takes the real
``uv`` and ``uvx`` binaries out of them and lays them out as uv's releases are laid
out: ``uv-<target>.tar.gz`` holding one folder ``uv-<target>/``, a ``.sha256``
sidecar beside each archive and a ``sha256.sum`` per release, in several layouts:

- ``github/astral-sh/uv/releases/download/<version>/`` and ``.../releases/latest/download/``
- ``versioned/<version>/`` with a ``versioned/latest/`` alias
- ``flat/``: the current archives only, like an S3 folder
- ``flat-gnu/``: the current gnu archives only (the mirror that broke uv's installer on RHEL 8)
- ``musl-only/<version>/``: musl archives only
- ``no-aarch64-gnu/<version>/``: every archive but aarch64's gnu one (its sidecar gone
  too, ``sha256.sum`` kept), so aarch64 hosts must fall back to musl

Every layout holds the x86_64, aarch64 and i686 builds (``TARGETS``): aarch64's gnu
build comes from the ``manylinux_2_28_aarch64`` wheel (it needs glibc 2.28) and its
static musl build from the ``musllinux_1_1_aarch64`` one.

``too-new`` adds ``too-new/<version>/``: a gnu archive whose ``uv``/``uvx`` are a tiny C
program compiled on this machine (``too_new_uv.c``; it needs ``GLIBC_2.34``), beside
the real musl archive of that version: the build that is too new for an old host.

ruff and ty (``TOOLS``) get the same layouts from their own real wheels, each under its own
folder of the mirror: ``<tool>/github/astral-sh/<tool>/releases/download/<version>/``,
``<tool>/versioned/<version>/`` (and ``latest``), ``<tool>/flat/``, ``<tool>/flat-gnu/``,
``<tool>/musl-only/<version>/`` and ``<tool>/no-aarch64-gnu/<version>/``, with their own
``<tool>/manifest.json``. What each tool's binaries and archives are called comes from the
collection's own table (``plugins/module_utils/tools.py``); which wheels hold which build,
and which versions to take, from ``TOOLS`` below.

``serve`` serves a root on 127.0.0.1 only, counts requests and bytes (``GET /_stats``,
``POST /_reset``) and injects faults on request (``POST /_faults`` with a JSON object
mapping a path to a fault, see ``FaultyHandler``). It stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import http.server
import importlib.util
import io
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tarfile
import threading
import time
import zipfile

TARGETS = {
    # wheel platform tag -> uv target triple. A wheel with a musllinux tag holds the
    # static musl build even when it also carries manylinux tags (aarch64's musl wheel
    # is manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64); a wheel
    # with manylinux tags only holds the gnu build.
    "manylinux2014_x86_64": "x86_64-unknown-linux-gnu",
    "musllinux_1_1_x86_64": "x86_64-unknown-linux-musl",
    # aarch64's gnu build links against glibc 2.28 (interpreter /lib/ld-linux-aarch64.so.1).
    "manylinux_2_28_aarch64": "aarch64-unknown-linux-gnu",
    "musllinux_1_1_aarch64": "aarch64-unknown-linux-musl",
    "manylinux2014_i686": "i686-unknown-linux-gnu",
    "musllinux_1_1_i686": "i686-unknown-linux-musl",
}
DEFAULT_VERSIONS = ("0.5.11", "0.13.8")
LAYOUT = 2  # bump when the mirror's layouts change, so a cached mirror is rebuilt

# ruff's and ty's wheels (checked with pip download): the gnu builds are manylinux2014 on
# x86_64, i686 and aarch64 (their aarch64 build needs glibc 2.17, not uv's 2.28), the
# static musl builds are musllinux_1_2 wheels.
ASTRAL_TARGETS = {
    "manylinux2014_x86_64": "x86_64-unknown-linux-gnu",
    "musllinux_1_2_x86_64": "x86_64-unknown-linux-musl",
    "manylinux2014_aarch64": "aarch64-unknown-linux-gnu",
    "musllinux_1_2_aarch64": "aarch64-unknown-linux-musl",
    "manylinux2014_i686": "i686-unknown-linux-gnu",
    "musllinux_1_2_i686": "i686-unknown-linux-musl",
}
# tool -> (its wheel platform tags -> targets, the versions the mirror holds, oldest first).
# ty is young: 0.0.115 is its last 0.0 release, 1.0.0 its first stable one; both have
# wheels for every target above.
TOOLS = {
    "uv": (TARGETS, DEFAULT_VERSIONS),
    "ruff": (ASTRAL_TARGETS, ("0.16.10", "0.17.6")),
    "ty": (ASTRAL_TARGETS, ("0.0.115", "1.0.0")),
}
TOOL_LAYOUT = 1  # bump when the layouts of ruff's and ty's folders change


def collection_tools() -> dict:
    """The collection's own table of tools (``plugins/module_utils/tools.py``, pure, no imports)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugins", "module_utils",
                        "tools.py")
    spec = importlib.util.spec_from_file_location("pyfleet_uv_tools", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TOOLS


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pyfleet-uv")


def wheel_platforms(name: str) -> set:
    """The platform tags of a wheel file name (``a.b.c`` compressed tag sets expanded)."""
    stem = name[:-len(".whl")] if name.endswith(".whl") else name
    parts = stem.split("-")
    return set(parts[-1].split(".")) if len(parts) >= 5 else set()


def wheel_matches(name: str, version: str, platform: str, project: str = "uv") -> bool:
    """Whether ``name`` is the ``project`` ``version`` wheel that holds the build of ``platform``.

    The wheel must carry that exact tag; for a manylinux tag it must carry no
    musllinux tag as well (such a wheel holds the static musl build).
    """
    if not (name.startswith("%s-%s-" % (project, version)) and name.endswith(".whl")):
        return False
    tags = wheel_platforms(name)
    if platform not in tags:
        return False
    return platform.startswith("musllinux") or not any(tag.startswith("musllinux") for tag in tags)


def _cached_wheel(version: str, platform: str, wheels: str, project: str = "uv") -> str | None:
    for name in sorted(os.listdir(wheels)):
        if wheel_matches(name, version, platform, project):
            return os.path.join(wheels, name)
    return None


def fetch_wheel(version: str, platform: str, wheels: str, project: str = "uv") -> str:
    """The path of the cached ``project`` (uv, ruff, ty) wheel for ``version``/``platform``, downloading it once.

    ``platform`` is a key of the tool's platform table (``TOOLS``), any architecture.
    pip is asked for that platform; it prefers the most specific tag, and the result is
    checked with ``wheel_matches`` (a gnu platform must not yield the musl wheel).
    """
    os.makedirs(wheels, exist_ok=True)
    found = _cached_wheel(version, platform, wheels, project)
    if found:
        return found
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--platform", platform, "--dest", wheels, "%s==%s" % (project, version)],
        check=True,
    )
    found = _cached_wheel(version, platform, wheels, project)
    if not found:
        raise SystemExit("pip downloaded no %s %s wheel tagged %s (only %s) into %s"
                         % (project, version, platform, ", ".join(sorted(os.listdir(wheels))), wheels))
    return found


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_archive(path: str, target: str, members: dict, extra: list | None = None,
                 fmt: int = tarfile.DEFAULT_FORMAT, tool: str = "uv") -> str:
    """Write ``<tool>-<target>.tar.gz`` at ``path`` from ``{name: bytes}``; returns its sha256.

    ``extra`` is a list of ready ``(TarInfo, bytes-or-None)`` pairs appended after the
    binaries, for hostile archives; ``fmt`` the tar format (GNU for GNU long names). The
    one folder inside is ``<tool>-<target>/``, as cargo-dist lays out uv's, ruff's and ty's.
    """
    folder = "%s-%s" % (tool, target)
    with open(path, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=fmt) as tar:
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 1700000000
            tar.addfile(info)
            for name, data in members.items():
                info = tarfile.TarInfo("%s/%s" % (folder, name))
                info.size = len(data)
                info.mode = 0o755
                info.mtime = 1700000000
                tar.addfile(info, io.BytesIO(data))
            for info, data in extra or []:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return sha256_file(path)


def write_sidecar(archive: str, digest: str, star: bool = False) -> None:
    name = os.path.basename(archive)
    with open(archive + ".sha256", "w") as handle:
        handle.write("%s %s%s\n" % (digest, "*" if star else " ", name))


def binaries_from_wheel(wheel: str, version: str, tool: str = "uv") -> dict:
    """``{binary: bytes}`` of the tool's scripts in its wheel (the binaries named by the collection's table)."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read("%s-%s.data/scripts/%s" % (tool, version, name))
                for name in collection_tools()[tool].binaries}


def link_tree(source: str, dest: str, keep=lambda name: True) -> None:
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(source):
        if keep(name):
            target = os.path.join(dest, name)
            if not os.path.exists(target):
                os.link(os.path.join(source, name), target)


def _layouts(staging: str, tool: str, versions: tuple, wheels: str, manifest: dict, key_prefix: str = "") -> None:
    """Lay out every layout of ``tool`` under ``staging`` from its real wheels, filling ``manifest``."""
    platforms = TOOLS[tool][0]
    archive_name = collection_tools()[tool].archive
    releases = os.path.join(staging, "github", "astral-sh", tool, "releases")
    for version in versions:
        rel = os.path.join(releases, "download", version)
        os.makedirs(rel)
        sums = []
        for platform, target in sorted(platforms.items(), key=lambda item: item[1]):
            members = binaries_from_wheel(fetch_wheel(version, platform, wheels, tool), version, tool)
            name = archive_name(target)
            archive = os.path.join(rel, name)
            digest = make_archive(archive, target, members, tool=tool)
            # uv's own jobs write "<hex>  <name>", cargo-dist "<hex> *<name>": use both
            # (the gnu sidecars the first, the musl ones the second).
            write_sidecar(archive, digest, star="-musl" in target)
            sums.append("%s  %s\n" % (digest, name))
            manifest["archives"]["%s%s/%s" % (key_prefix, version, target)] = {
                "sha256": digest, "size": os.path.getsize(archive),
                "%s_sha256" % tool: hashlib.sha256(members[tool]).hexdigest(),
            }
        with open(os.path.join(rel, "sha256.sum"), "w") as handle:
            handle.writelines(sums)
        link_tree(rel, os.path.join(staging, "versioned", version))
        link_tree(rel, os.path.join(staging, "musl-only", version), lambda n: "musl" in n or n == "sha256.sum")
        link_tree(rel, os.path.join(staging, "no-aarch64-gnu", version),
                  lambda n: not n.startswith(archive_name("aarch64-unknown-linux-gnu")))
    newest = os.path.join(releases, "download", versions[-1])
    link_tree(newest, os.path.join(releases, "latest", "download"))
    link_tree(newest, os.path.join(staging, "versioned", "latest"))
    link_tree(newest, os.path.join(staging, "flat"))
    link_tree(newest, os.path.join(staging, "flat-gnu"), lambda n: "-gnu" in n)


def _publish(staging: str, out: str, manifest: dict) -> dict:
    with open(os.path.join(staging, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(staging, out)
    return manifest


def build(out: str, versions: tuple, wheels: str) -> dict:
    """Build every layout of uv under ``out``; returns a manifest (also written as manifest.json)."""
    manifest_path = os.path.join(out, "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as handle:
            manifest = json.load(handle)
        if (manifest.get("versions") == list(versions) and manifest.get("layout") == LAYOUT
                and manifest.get("targets") == sorted(TARGETS.values())):
            return manifest
    staging = out + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    manifest = {"versions": list(versions), "layout": LAYOUT, "targets": sorted(TARGETS.values()), "archives": {}}
    _layouts(staging, "uv", versions, wheels, manifest)
    return _publish(staging, out, manifest)


def build_tool(out: str, tool: str, wheels: str, versions: tuple | None = None) -> dict:
    """Build ``tool``'s (ruff's, ty's) layouts under ``<out>/<tool>/`` with the same code as uv's.

    Its own manifest (``<out>/<tool>/manifest.json``) decides whether a cached folder is
    still right; uv's mirror and manifest are left as they are.
    """
    versions = tuple(versions or TOOLS[tool][1])
    dest = os.path.join(out, tool)
    targets = sorted(TOOLS[tool][0].values())
    manifest_path = os.path.join(dest, "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as handle:
            manifest = json.load(handle)
        if (manifest.get("versions") == list(versions) and manifest.get("layout") == TOOL_LAYOUT
                and manifest.get("targets") == targets):
            return manifest
    staging = dest + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    manifest = {"tool": tool, "versions": list(versions), "layout": TOOL_LAYOUT, "targets": targets, "archives": {}}
    _layouts(staging, tool, versions, wheels, manifest)
    return _publish(staging, dest, manifest)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.bytes = 0
        self.paths: list = []

    def add(self, path: str, size: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += size
            self.paths.append(path)

    def add_bytes(self, size: int) -> None:
        with self.lock:
            self.bytes += size


class FaultyHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files; per-path faults set through ``POST /_faults``.

    Faults (the value for a path; a path ending in ``*`` is a prefix):
    ``{"status": 500, "times": 1}`` answer that status (``times`` times, then serve
    normally; forever without ``times``),
    ``{"short": true}`` send half the body under a full Content-Length and close,
    ``{"slow": seconds}`` wait before answering, ``{"redirect": url}`` answer 302,
    ``{"auth": "user:pass"}`` demand HTTP basic auth,
    ``{"header": ["Name", "value"]}`` demand that request header,
    ``{"redirect_base": url}`` (on a ``prefix*`` key) answer 302 to ``url`` plus the rest of the path,
    ``{"trickle": seconds}`` pause that long between 64 KiB chunks of the body.
    """

    server_version = "uvmirror/1"
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # quiet
        return

    def _fault(self) -> dict | None:
        path = self.path.split("?", 1)[0]
        faults = self.server.faults
        if path in faults:
            return faults[path]
        for key, value in faults.items():
            if key.endswith("*") and path.startswith(key[:-1]):
                return value
        return None

    def _send_json(self, data, status=200) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        if self.path == "/_reset":
            self.server.stats.reset()
            self.server.faults.clear()
            return self._send_json({"ok": True})
        if self.path == "/_faults":
            self.server.faults.clear()
            self.server.faults.update(json.loads(payload or b"{}"))
            return self._send_json({"ok": True})
        self.send_error(404)

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        if self.path == "/_stats":
            stats = self.server.stats
            return self._send_json({"requests": stats.requests, "bytes": stats.bytes, "paths": stats.paths})
        fault = self._fault()
        if fault:
            if "slow" in fault:
                time.sleep(float(fault["slow"]))
            if "auth" in fault:
                expected = "Basic " + base64.b64encode(fault["auth"].encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.server.stats.add(self.path, 0)
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="uv"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            if "header" in fault:
                name, value = fault["header"]
                if self.headers.get(name) != value:
                    self.server.stats.add(self.path, 0)
                    self.send_error(403)
                    return
            if "status" in fault and (fault.get("times") is None or fault["times"] > 0):
                if fault.get("times") is not None:
                    fault["times"] -= 1
                self.server.stats.add(self.path, 0)
                self.send_error(int(fault["status"]))
                return
            if "redirect_base" in fault:
                prefix = next(k[:-1] for k, v in self.server.faults.items() if v is fault)
                self.server.stats.add(self.path, 0)
                self.send_response(302)
                self.send_header("Location", fault["redirect_base"] + self.path[len(prefix):])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if "redirect" in fault:
                self.server.stats.add(self.path, 0)
                self.send_response(302)
                self.send_header("Location", fault["redirect"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        path = self.translate_path(self.path)
        if os.path.isdir(path):  # a package index page, e.g. <index>/simple/uv/
            path = os.path.join(path, "index.html")
        if not os.path.isfile(path):
            self.server.stats.add(self.path, 0)
            self.send_error(404)
            return
        size = os.path.getsize(path)
        # Counted before the client can see any of it: a client that has read the whole
        # body (and a test that then reads the stats) never finds the request missing.
        self.server.stats.add(self.path, 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if head:
            return
        sent = 0
        limit = size // 2 if fault and fault.get("short") else size
        try:
            with open(path, "rb") as handle:
                while sent < limit:
                    chunk = handle.read(min(1 << 16, limit - sent))
                    if not chunk:
                        break
                    self.server.stats.add_bytes(len(chunk))
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if fault and fault.get("trickle"):
                        self.wfile.flush()
                        time.sleep(float(fault["trickle"]))
        except (BrokenPipeError, ConnectionResetError):
            pass
        if fault and fault.get("short"):
            self.close_connection = True


class BackgroundServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server that tests run in a daemon thread: ``start()``, then ``stop()``."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: uv opens a dozen connections at once, the kernel drops the
    # SYNs beyond the backlog, and each dropped one waits a second for its retry (a 1 s stall per burst that
    # no real index has; nginx, waitress and devpi-server listen with hundreds).
    request_queue_size = 128

    def start(self) -> "BackgroundServer":
        """Serve in a daemon thread (for tests in the same process); stop with ``stop()``."""
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class MirrorServer(BackgroundServer):
    def __init__(self, root: str, host: str = "127.0.0.1", port: int = 0, tls: tuple | None = None) -> None:
        if not host.startswith("127."):
            raise ValueError("the test mirror listens on loopback (127.0.0.0/8) only")
        self.stats = Stats()
        self.faults: dict = {}
        super().__init__((host, port), functools.partial(FaultyHandler, directory=root))
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.socket = context.wrap_socket(self.socket, server_side=True)

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return "%s://%s:%d" % (scheme, self.server_address[0], self.server_address[1])


def build_too_new(root: str, version: str, cc: str = "gcc") -> dict:
    """Write ``too-new/<version>/`` under the mirror ``root``; returns ``{target: sha256}``.

    The gnu archive holds ``too_new_uv.c`` compiled here for ``uv`` and ``uvx``; the
    musl archive (and its sidecar) is the real one from ``versioned/<version>/``.
    """
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "too_new_uv.c")
    real = os.path.join(root, "versioned", version)
    musl = "uv-%s.tar.gz" % TARGETS["musllinux_1_1_x86_64"]
    if not os.path.exists(os.path.join(real, musl)):
        raise SystemExit("%s has no %s: build the mirror with version %s first" % (real, musl, version))
    dest = os.path.join(root, "too-new", version)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    members = {}
    for name in ("uv", "uvx"):
        binary = os.path.join(dest, name)
        subprocess.run([cc, "-O2", "-o", binary, '-DUV_NAME="%s"' % name, '-DUV_VERSION="%s"' % version, source],
                       check=True)
        with open(binary, "rb") as handle:
            members[name] = handle.read()
        os.unlink(binary)
        if b"GLIBC_2.34" not in members[name]:
            raise SystemExit("%s built by %s does not need GLIBC_2.34: build it on a machine with glibc 2.34 "
                             "or newer" % (name, cc))
    gnu = TARGETS["manylinux2014_x86_64"]
    archive = os.path.join(dest, "uv-%s.tar.gz" % gnu)
    digests = {gnu: make_archive(archive, gnu, members)}
    write_sidecar(archive, digests[gnu])
    link_tree(real, dest, lambda n: n.startswith(musl))
    digests[TARGETS["musllinux_1_1_x86_64"]] = sha256_file(os.path.join(dest, musl))
    return digests


def serve(root: str, host: str, port: int, portfile: str | None) -> None:
    serve_until_signal(MirrorServer(root, host, port), portfile)


def serve_until_signal(server, portfile: str | None) -> None:
    """Serve ``server`` until SIGTERM or SIGINT, first writing its port to ``portfile`` (atomically) if given."""
    if portfile:
        with open(portfile + ".tmp", "w") as handle:
            handle.write(str(server.server_address[1]))
        os.rename(portfile + ".tmp", portfile)

    def stop(*_args) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the mirror tree")
    b.add_argument("--out", default=os.path.join(cache_dir(), "mirror"))
    b.add_argument("--versions", default=",".join(DEFAULT_VERSIONS))
    b.add_argument("--wheels", default=os.path.join(cache_dir(), "wheels"))
    b.add_argument("--tools", default=",".join(t for t in TOOLS if t != "uv"),
                   help="the other tools whose folders to build beside uv's (comma-separated; empty: none)")
    t = sub.add_parser("too-new", help="add too-new/<version>/: a gnu build needing GLIBC_2.34 beside real musl")
    t.add_argument("--root", default=os.path.join(cache_dir(), "mirror"))
    t.add_argument("--version", default=DEFAULT_VERSIONS[-1])
    t.add_argument("--cc", default="gcc")
    s = sub.add_parser("serve", help="serve a tree on loopback")
    s.add_argument("--root", default=os.path.join(cache_dir(), "mirror"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--portfile")
    args = parser.parse_args(argv)
    if args.command == "build":
        manifest = build(args.out, tuple(args.versions.split(",")), args.wheels)
        for tool in filter(None, args.tools.split(",")):
            manifest.setdefault("tools", {})[tool] = build_tool(args.out, tool, args.wheels)
        print(json.dumps(manifest, indent=1))
    elif args.command == "too-new":
        print(json.dumps(build_too_new(args.root, args.version, args.cc), indent=1))
    else:
        serve(args.root, args.host, args.port, args.portfile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
