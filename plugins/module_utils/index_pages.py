# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Package index pages (PEP 503 HTML, PEP 691 JSON): a tool's versions and wheels.

Pure: no I/O; runs on Python 3.6. The page is parsed as it arrives (see
``IndexPageParser``); the transport that reads it is handed in by the host or the
controller. ``project`` is a tool's name (``uv``, ``ruff``, ``ty``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import json
import re

try:
    from urllib.parse import unquote, urljoin
except ImportError:  # pragma: no cover - Python 2 is not supported on targets
    from urllib import unquote  # type: ignore
    from urlparse import urljoin  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import SHA256_RE, Artifact, check_scheme, redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import version_key
from ansible_collections.pyfleet.uv.plugins.module_utils.wheel_tags import parse_wheel_name, target_build, wheel_build

__all__ = [
    "INDEX_ACCEPT",
    "PROJECT",
    "IndexPage",
    "IndexPageParser",
    "describe_yanked",
    "project_url",
    "validate_index_url",
]

# What uv's own tooling sends: JSON preferred, HTML accepted.
INDEX_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
                "text/html;q=0.01")
PROJECT = "uv"


def project_url(index_url, project=PROJECT):
    """The page of ``project`` (a tool's name) under a simple-index base URL (``<index_url>/<project>/``)."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    return base + project + "/"


def validate_index_url(index_url):
    """Check an ``index_url``; raise ``MirrorError`` saying what to fix."""
    check_scheme(index_url, "index_url")
    if "{" in index_url:
        raise MirrorError("index_url is a plain URL of a simple index such as "
                          "https://pypi-proxy.example.com/simple/; it takes no {placeholders}")


class IndexFile(object):
    """One wheel of the project listed on an index page."""

    __slots__ = ("filename", "url", "sha256", "yanked", "version", "tags", "build")

    def __init__(self, filename, url, sha256, yanked, version, tags, build):
        self.filename = filename
        self.url = url
        self.sha256 = sha256
        self.yanked = yanked
        self.version = version
        self.tags = tags
        self.build = build


class IndexPage(object):
    """What an index page says about a project: every version, and the wheels of one version.

    ``versions`` maps each version seen to ``True`` when every wheel of it is yanked.
    ``selected`` is the version whose wheels are kept in ``files``: the one asked for,
    or the newest plain version that is not yanked.
    """

    def __init__(self, url, dialect, project=PROJECT):
        self.url = url
        self.dialect = dialect
        self.project = project
        self.versions = {}
        self.selected = None
        self.files = []

    def latest(self):
        """The newest plain X.Y.Z version that has a wheel which is not yanked, or ``None``."""
        best = None
        for version, yanked in self.versions.items():
            key = version_key(version)
            if key is None or yanked:
                continue
            if best is None or key > version_key(best):
                best = version
        return best

    def wheel_for(self, target):
        """The wheel of ``selected`` that holds ``target``'s build, or ``None``.

        A wheel that is not yanked is preferred over a yanked one.
        """
        want = target_build(target)
        found = [f for f in self.files if f.build == want]
        found.sort(key=lambda f: bool(f.yanked))
        return found[0] if found else None

    def artifact(self, target):
        """The ``Artifact`` of ``target`` in ``selected``, or ``None`` if the index has no such wheel."""
        wheel = self.wheel_for(target)
        if wheel is None:
            return None
        return Artifact("index", target, wheel.version, wheel.filename, wheel.url, "wheel",
                        sha256=wheel.sha256, yanked=wheel.yanked)

    def describe_selected(self):
        """The wheels of ``selected``, for messages: ``name (yanked)`` ..."""
        return ", ".join(f.filename + (" (yanked)" if f.yanked else "") for f in self.files) or (
            "no %s wheels" % self.project)


class IndexPageParser(object):
    """Parse a project page (``project``: a tool's name) as it arrives, keeping only what is needed.

    Feed the body in chunks with ``feed(bytes)``, then call ``close()`` for the
    ``IndexPage``. ``content_type`` (the response's header) picks the dialect: PEP 691
    JSON or PEP 503 HTML; ``base_url`` is the page's final URL, against which relative
    file URLs are resolved. ``want`` is the version whose wheels to keep; ``None``
    keeps those of the newest non-yanked version seen so far, so that a page listing
    hundreds of releases never holds more than one release's files.
    """

    def __init__(self, base_url, content_type, want=None, project=PROJECT):
        self.page = IndexPage(base_url, _dialect(content_type), project)
        self.want = want
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._candidates = {}  # version -> its files, for want=None until it is known not yanked
        self._best = None  # version_key of the newest non-yanked version seen (want=None)
        if self.page.dialect == "json":
            self._impl = _JsonFilesScanner(self._add)
        elif self.page.dialect == "html":
            self._impl = _HtmlAnchors(self._add, base_url)
        else:
            self._impl = None
            self._sniff = ""

    def feed(self, data):
        """Take the next chunk of the body (bytes)."""
        text = self._decoder.decode(data)
        if self._impl is None:
            self._sniff += text
            stripped = self._sniff.lstrip()
            if not stripped:
                return
            if stripped.startswith("{"):
                self.page.dialect = "json"
                self._impl = _JsonFilesScanner(self._add)
            else:
                self.page.dialect = "html"
                self._impl = _HtmlAnchors(self._add, self.page.url)
            text, self._sniff = self._sniff, ""
        self._impl.feed(text)

    def close(self):
        """Finish parsing; returns the ``IndexPage``. Raises ``MirrorError`` on a broken page."""
        tail = self._decoder.decode(b"", True)
        if self._impl is None:
            raise MirrorError("the index page %s is empty" % redact_url(self.page.url))
        if tail:
            self._impl.feed(tail)
        self._impl.close()
        page = self.page
        if self.want is None:
            latest = page.latest()
            page.selected = latest
            page.files = self._candidates.get(latest, []) if latest else []
        else:
            page.selected = self.want if self.want in page.versions else None
            page.files = self._candidates.get(self.want, [])
        return page

    def _add(self, filename, url, sha256, yanked):
        parsed = parse_wheel_name(filename, self.page.project)
        if parsed is None:
            return  # the sdist, metadata files or other projects' files
        version, tags = parsed
        build = wheel_build(tags)
        if build is None:
            return  # macOS and Windows wheels
        versions = self.page.versions
        versions[version] = versions.get(version, True) and bool(yanked)
        item = IndexFile(filename, urljoin(self.page.url, url.split("#", 1)[0]), sha256, yanked, version, tags, build)
        if self.want is not None:
            if version == self.want:
                self._candidates.setdefault(version, []).append(item)
            return
        # Keep the files of the newest versions only: the newest seen so far, and any
        # newer one whose wheels are (so far) all yanked, since a later file may not be.
        key = version_key(version)
        if key is None:
            return
        if self._best is not None and key < self._best:
            return
        self._candidates.setdefault(version, []).append(item)
        if not yanked and (self._best is None or key > self._best):
            # A version only ever goes from yanked to not yanked, so the newest
            # non-yanked version only grows: older candidates can go.
            self._best = key
            for other in list(self._candidates):
                if version_key(other) < key:
                    del self._candidates[other]


def _dialect(content_type):
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value.endswith("json"):
        return "json"
    if "html" in value:
        return "html"
    return None


def _sha256_of(hashes):
    if isinstance(hashes, dict):
        value = hashes.get("sha256")
        if isinstance(value, str) and SHA256_RE.match(value):
            return value.lower()
    return None


class _JsonFilesScanner(object):
    """Streams the ``files`` array of a PEP 691 page, one file object at a time."""

    _KEY_RE = re.compile(r'"files"\s*:\s*\[')

    def __init__(self, add):
        self.add = add
        self.buf = ""
        self.state = "seek"  # seek -> files -> done
        self.decoder = json.JSONDecoder()
        self.seen_any = False

    def feed(self, text):
        self.buf += text
        while True:
            if self.state == "seek":
                match = self._KEY_RE.search(self.buf)
                if not match:
                    self.buf = self.buf[-32:]  # a key may be cut between chunks
                    return
                self.buf = self.buf[match.end():]
                self.state = "files"
                self.seen_any = True
            if self.state == "done":
                self.buf = ""
                return
            stripped = self.buf.lstrip(" \t\r\n,")
            if not stripped:
                self.buf = ""
                return
            if stripped[0] == "]":
                self.state = "done"
                continue
            try:
                obj, end = self.decoder.raw_decode(stripped)
            except ValueError:
                self.buf = stripped
                if len(self.buf) > 1024 * 1024:
                    raise MirrorError("the index page has a file entry over 1 MB long; it is not a PEP 691 page")
                return  # incomplete: wait for more
            self.buf = stripped[end:]
            if isinstance(obj, dict):
                filename = obj.get("filename")
                url = obj.get("url")
                if isinstance(filename, str) and isinstance(url, str):
                    yanked = obj.get("yanked") or False
                    self.add(filename, url, _sha256_of(obj.get("hashes")), yanked)

    def close(self):
        if not self.seen_any:
            raise MirrorError("the index answered JSON without a 'files' list; it is not a PEP 691 project page")
        if self.state != "done":
            raise MirrorError("the index's JSON page ended inside its 'files' list (truncated?)")


class _HtmlAnchors(object):
    """Collects ``<a href>`` of a PEP 503 page, with ``#sha256=`` and ``data-yanked``."""

    def __init__(self, add, base_url):
        # Imported here: only an HTML index page needs it (a release mirror, a JSON
        # index and the controller's version checks never do).
        from html.parser import HTMLParser  # pylint: disable=import-outside-toplevel
        self.parser = HTMLParser(convert_charrefs=True)
        self.parser.handle_starttag = self.handle_starttag  # handle_startendtag calls it too
        self.add = add
        self.base_url = base_url

    def feed(self, text):
        self.parser.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base_url = urljoin(self.base_url, href)
            return
        if tag != "a":
            return
        attributes = dict(attrs)
        href = attributes.get("href")
        if not href:
            return
        path, _sep, fragment = href.partition("#")
        filename = unquote(path.rstrip("/").rsplit("/", 1)[-1])
        sha256 = None
        if fragment.startswith("sha256="):
            value = fragment[len("sha256="):]
            if SHA256_RE.match(value):
                sha256 = value.lower()
        yanked = False
        if "data-yanked" in attributes:
            yanked = attributes["data-yanked"] or True
        self.add(filename, urljoin(self.base_url, path), sha256, yanked)

    def close(self):
        self.parser.close()


def describe_yanked(yanked):
    """``yanked`` as words: the reason when the index gave one."""
    if yanked is True or not yanked:
        return "yanked" if yanked else ""
    return "yanked (%s)" % yanked
