# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback PEP 503 index whose links carry ``#sha256=`` (so ``uv lock`` records hashes), for uv_sync's tests.

``hashed_index(wheels, auth=None, hashes=True)`` serves copies of ``wheels`` on 127.0.0.1 and yields an
``Index``: ``url`` (the simple URL), ``paths`` (every request's path, in order), ``reset()``,
``tamper(filename)`` (change the bytes served for a file, its listed sha256 unchanged: what a compromised
mirror serves) and, with ``auth=(user, password)``, answers 401 to any request without those credentials.
``hashes=False`` leaves the ``#sha256=`` out of the links (venvindex.static_index, uv_venv's tests).
``metadata=True`` also serves each wheel's core metadata beside it (``<file>.metadata``, PEP 658/714, named in
the links' ``data-core-metadata``), as the public index and devpi do: a resolver reads it instead of the wheel.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import http.server
import os
import re
import shutil
import tempfile
import threading

from uvmirror import BackgroundServer  # tests/utils, beside this file


class Index:
    def __init__(self, root: str) -> None:
        self.root = root
        self.url = ""
        self.paths: list = []
        self.lock = threading.Lock()

    def add(self, path: str) -> None:
        with self.lock:
            self.paths.append(path)

    def reset(self) -> None:
        with self.lock:
            self.paths = []

    def tamper(self, filename: str) -> None:
        """Serve other bytes for ``filename`` (a valid zip still: one more member appended)."""
        import zipfile  # pylint: disable=import-outside-toplevel
        with zipfile.ZipFile(os.path.join(self.root, "files", filename), "a") as wheel:
            wheel.writestr("tampered.txt", "not what the lock pinned\n")


def core_metadata(wheel: str) -> bytes:
    """The ``*.dist-info/METADATA`` of ``wheel`` (its core metadata, PEP 658)."""
    import zipfile  # pylint: disable=import-outside-toplevel
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            raise ValueError("%s holds %d .dist-info/METADATA files" % (wheel, len(names)))
        return archive.read(names[0])


@contextlib.contextmanager
def hashed_index(wheels: list, auth: tuple | None = None, hashes: bool = True, metadata: bool = False):
    """See the module docstring."""
    with tempfile.TemporaryDirectory(prefix="lockindex-") as root:
        index = Index(root)
        projects: dict = {}
        os.makedirs(os.path.join(root, "files"))
        for wheel in wheels:
            name = re.sub(r"[-_.]+", "-", os.path.basename(wheel).split("-")[0]).lower()
            shutil.copy(wheel, os.path.join(root, "files", os.path.basename(wheel)))
            with open(wheel, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            extra = ""
            if metadata:
                core = core_metadata(wheel)
                with open(os.path.join(root, "files", os.path.basename(wheel) + ".metadata"), "wb") as handle:
                    handle.write(core)
                extra = ' data-core-metadata="sha256=%s" data-dist-info-metadata="sha256=%s"' % (
                    (hashlib.sha256(core).hexdigest(),) * 2)
            projects.setdefault(name, []).append((os.path.basename(wheel), digest, extra))
        for name, files in projects.items():
            os.makedirs(os.path.join(root, "simple", name))
            links = ['<a href="/files/%s%s"%s>%s</a>' % (html.escape(f), "#sha256=" + d if hashes else "", x, html.escape(f))
                     for f, d, x in files]
            with open(os.path.join(root, "simple", name, "index.html"), "w") as handle:
                handle.write("<!DOCTYPE html><html><body>%s</body></html>\n" % "<br>".join(links))
        wanted = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode() if auth else None

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def log_message(self, *args) -> None:  # quiet
                pass

            def send_head(self):
                index.add(self.path)
                if wanted and self.headers.get("Authorization") != wanted:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="lockindex"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return super().send_head()

        server = BackgroundServer(("127.0.0.1", 0), Handler).start()  # a real index's listen backlog
        index.url = "http://127.0.0.1:%d/simple/" % server.server_address[1]
        try:
            yield index
        finally:
            server.stop()
