# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The static index of tests/utils/uvindex.py: a PEP 503 tree laid out as Nexus serves it.

``build_static`` writes ``yanked/`` (HTML, 0.13.9 carries ``data-yanked``), ``yanked-json/`` (the
same, negotiated to PEP 691 JSON by ``Accept``) and ``tampered/`` (every 0.5.11 wheel listed
with a wrong sha256), with hard links to the cached wheels; ``StaticServer`` serves a tree on
127.0.0.1.
"""

from __future__ import annotations

import functools
import hashlib
import html
import http.client
import http.server
import json
import os
import shutil

from uvmirror import BackgroundServer  # tests/utils
from uvindex_front import JSON_TYPE, accepts_json
from uvindex_wheels import OLD, YANKED, sha256_file, wheel_tags


YANK_REASON = "pulled for the yanked-release test"


TAMPERED_VERSION = OLD  # every uv wheel of this version has a wrong sha256 on tampered/


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
