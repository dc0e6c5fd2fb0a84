# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``uvindex.py selftest`` and ``uvindex.py record``: every index checked through its front, and
the unit test fixtures written from the running servers (imported by uvindex.main only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import html
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from uvindex_wheels import (DEVPI_REQUIREMENTS, NEW, PYPISERVER_REQUIREMENTS, YANKED, cache_dir, cache_lock,
                            fetch_wheels, log, sha256_file, venv)
from uvindex import Index, devpi_index, indexes, pypiserver_index, static_index
from uvindex_front import JSON_TYPE, UV_ACCEPT, get, reset, stats
from uvindex_static import TAMPERED_VERSION, _version_key, build_static


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
    # the servers also hold ruff's and ty's wheels: the uv page lists uv's
    uv_files = {name for name in real if name.startswith("uv-")}
    _check(all(f["sha256"] == real.get(f["filename"]) for f in files) and {f["filename"] for f in files} == uv_files,
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
