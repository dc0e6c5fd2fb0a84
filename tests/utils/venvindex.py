# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real wheels of a few small packages, and loopback indexes that serve them, for uv_venv's tests.

- ``fetch()``: the wheels of ``PACKAGES`` (pure Python; two versions of six and packaging, and
  python-dateutil, which needs six, and flit_core, the build backend of the editable test), downloaded once with pip into ``~/.cache/pyfleet-uv/wheels``.
- ``static_index(wheels)``: a PEP 503 tree served by ``http.server`` on 127.0.0.1 that counts
  every request (the unit tests' index).
- ``serve``: pypiserver (uvindex.pypiserver_index, behind uvindex's counting front, ``GET /_stats``,
  ``POST /_reset``) holding these wheels besides uv's; writes ``{"url", "stats"}`` to ``--portfile``
  and stops on SIGTERM or after ``--lifetime`` seconds (the uv_venv integration target starts it
  when the caller gave no index).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PACKAGES = ("six==1.16.0", "six==1.17.0", "python-dateutil==2.9.0.post0", "packaging==24.1", "packaging==24.2",
            "iniconfig==2.0.0", "flit_core==4.1.0")


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pyfleet-uv")


def _prefix(requirement: str) -> str:
    name, _sep, version = requirement.partition("==")
    return "%s-%s-" % (re.sub(r"[-_.]+", "_", name).lower(), version)


def fetch(packages=PACKAGES, wheels: str | None = None) -> list:
    """Paths of the pure-Python wheels of ``packages`` (``name==version``); each downloaded once."""
    wheels = wheels or os.path.join(cache_dir(), "wheels")
    os.makedirs(wheels, exist_ok=True)
    out = []
    for requirement in packages:
        prefix = _prefix(requirement)
        found = [n for n in sorted(os.listdir(wheels)) if n.lower().startswith(prefix) and n.endswith("-none-any.whl")]
        if not found:
            staging = tempfile.mkdtemp(prefix=".venvindex-", dir=wheels)
            try:
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                "--no-deps", "--only-binary=:all:", "--dest", staging, requirement], check=True)
                found = [n for n in os.listdir(staging) if n.lower().startswith(prefix) and n.endswith(".whl")]
                if len(found) != 1:
                    raise RuntimeError("pip download %s gave %r" % (requirement, os.listdir(staging)))
                os.replace(os.path.join(staging, found[0]), os.path.join(wheels, found[0]))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        out.append(os.path.join(wheels, found[0]))
    return out


class _Counter:
    def __init__(self) -> None:
        self.paths: list = []
        self.lock = threading.Lock()

    def add(self, path: str) -> None:
        with self.lock:
            self.paths.append(path)

    def reset(self) -> None:
        with self.lock:
            self.paths = []


@contextlib.contextmanager
def static_index(wheels: list):
    """A PEP 503 index of ``wheels`` on 127.0.0.1; yields ``(simple URL, counter)``.

    ``counter.paths`` lists every request's path, in order.
    """
    counter = _Counter()
    with tempfile.TemporaryDirectory(prefix="venvindex-") as root:
        projects: dict = {}
        for wheel in wheels:
            name = re.sub(r"[-_.]+", "-", os.path.basename(wheel).split("-")[0]).lower()
            projects.setdefault(name, []).append(wheel)
        os.makedirs(os.path.join(root, "files"))
        for name, files in projects.items():
            os.makedirs(os.path.join(root, "simple", name))
            links = []
            for wheel in files:
                shutil.copy(wheel, os.path.join(root, "files", os.path.basename(wheel)))
                links.append('<a href="/files/%s">%s</a>' % (html.escape(os.path.basename(wheel)),
                                                             html.escape(os.path.basename(wheel))))
            with open(os.path.join(root, "simple", name, "index.html"), "w") as handle:
                handle.write("<!DOCTYPE html><html><body>%s</body></html>\n" % "<br>".join(links))

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def log_message(self, *args) -> None:  # quiet
                pass

            def send_head(self):
                counter.add(self.path)
                return super().send_head()

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield "http://127.0.0.1:%d/simple/" % server.server_address[1], counter
        finally:
            server.shutdown()
            server.server_close()


def cmd_serve(args) -> int:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import uvindex  # pylint: disable=import-outside-toplevel  # tests/utils

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    with uvindex.pypiserver_index(extra=tuple(fetch())) as index:
        data = {"url": index.url, "stats": index.stats, "kind": index.kind, "server_version": index.server_version}
        with open(args.portfile + ".tmp", "w") as handle:
            json.dump(data, handle)
        os.rename(args.portfile + ".tmp", args.portfile)
        deadline = time.time() + args.lifetime
        while not stop.is_set() and time.time() < deadline:
            stop.wait(0.5)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="pypiserver with the packages, until SIGTERM")
    serve.add_argument("--portfile", required=True)
    serve.add_argument("--lifetime", type=float, default=3600)
    sub.add_parser("fetch", help="download the wheels into the cache")
    args = parser.parse_args()
    if args.command == "fetch":
        print("\n".join(fetch()))
        return 0
    return cmd_serve(args)


if __name__ == "__main__":
    sys.exit(main())
