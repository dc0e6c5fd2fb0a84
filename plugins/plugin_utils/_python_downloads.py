# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Python archives for uv_python's download_on=controller: the downloads JSON and the archives, once.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
The downloads JSON (uv's ``python-downloads-json-url``) is read once per
``ansible-playbook`` run and shared by every fork (``_cache.RunMemo``); each archive is
downloaded once into the sha256-keyed controller cache (``_cache.ArtifactCache``), verified
against the JSON's sha256. ``http(s)`` goes through ``_http.ControllerFetcher``
(``requests``, imported only then); local paths and ``file://`` URLs are read directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os

try:
    from urllib.parse import quote, unquote, urlparse, urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urllib import quote, unquote  # type: ignore
    from urlparse import urlparse, urlsplit, urlunsplit  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Response
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_url
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import ArtifactCache, RunMemo, default_cache_dir

__all__ = ["DEFAULT_PYTHON_MIRROR", "DEFAULT_PYPY_MIRROR", "HOSTED_FOLDER", "FileFetcher", "PythonArchive",
           "PythonDownloads", "host_entries", "json_entry_for", "mirror_relative_path", "mirrored_url"]

# Where uv downloads CPython from without a mirror (the prefix that python-install-mirror replaces).
DEFAULT_PYTHON_MIRROR = "https://github.com/astral-sh/python-build-standalone/releases/download"
# The same for PyPy (pypy-install-mirror, UV_PYPY_INSTALL_MIRROR).
DEFAULT_PYPY_MIRROR = "https://downloads.python.org/pypy"
# The folder below the host's pushed mirror that holds the archives of a downloads JSON.
HOSTED_FOLDER = "pyfleet"
JSON_LIMIT = 64 * 1024 * 1024
ARCHIVE_LIMIT = 1024 * 1024 * 1024


class PythonArchive(object):
    """One archive to fetch, in the shape ``ArtifactCache`` takes."""

    def __init__(self, url):
        self.url = url
        self.name = safe_file_name(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1], url) or "python.tar.gz"

    def as_dict(self):
        return dict(url=redact_url(self.url), name=self.name)


def safe_file_name(raw, url):
    """The percent-decoded file name ``raw`` of ``url``, refused (``MirrorError``) when it would leave
    the folder it is copied into: ``.``, ``..``, a ``/`` or a NUL once decoded."""
    name = unquote(raw)
    if name in (".", "..") or "/" in name or "\x00" in name:
        raise MirrorError("refusing the archive file name %r of %s: it is not a plain file name" % (
            name, redact_url(url)))
    return name


def _without_userinfo(url):
    """``url`` without its user info, to compare a mirror with what uv prints (``user:****@``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, parts.query, parts.fragment))


def _local_path(url):
    """The file of a local path or ``file://`` URL, else ``None``."""
    if url.startswith("file://"):
        return unquote(urlparse(url).path)
    if "://" not in url:
        return url
    return None


class FileFetcher(object):
    """Copies a local file as if it were downloaded (same answers as ``ControllerFetcher.download``)."""

    def __init__(self):
        self.attempts = []

    def download(self, url, dest, max_bytes, origin=None):
        path = _local_path(url)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(path, "rb") as source, open(dest, "wb") as target:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    size += len(chunk)
                    if size > max_bytes:
                        return Response(url, 200, note="larger than %d bytes, refused" % max_bytes)
                    digest.update(chunk)
                    target.write(chunk)
        except (IOError, OSError) as exc:
            if not os.path.exists(path or ""):
                return Response(url, 404, note="no such file")
            return Response(url, -1, note=str(exc))
        return Response(url, 200, body=(digest.hexdigest(), size))


def _below(url, base):
    """The raw rest of ``url`` below ``base`` (both compared without user info), or ``None``."""
    base = _without_userinfo(base).rstrip("/") + "/"
    bare = _without_userinfo(url)
    return bare[len(base):] if bare.startswith(base) else None


def _mirror_rest(url, mirror):
    """The raw ``<build tag>/<file name>`` of an archive URL that uv printed, below ``mirror`` or GitHub's
    release folder (uv 0.8 prints that one even with a mirror), or ``None``."""
    rest = _below(url, mirror) if mirror else None
    if rest is None:
        rest = _below(url, DEFAULT_PYTHON_MIRROR)
    return rest


def mirror_relative_path(url, mirror):
    """The path of ``url`` below ``mirror`` (``<build tag>/<file name>``), as a file path.

    ``url`` is what the host's uv printed: from 0.9 below the mirror with its password masked
    (``user:****@``), in 0.8 below GitHub's release folder whatever the mirror. Both forms are
    compared without user info; messages show the mirror redacted.
    """
    rest = _mirror_rest(url, mirror)
    if rest is None:
        raise MirrorError("the host's uv asks for %s, which is not below the mirror %s" % (
            redact_url(url), redact_url((mirror or DEFAULT_PYTHON_MIRROR).rstrip("/") + "/")))
    relative = unquote(rest.split("?", 1)[0])
    parts = [p for p in relative.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts) or "\x00" in relative:
        raise MirrorError("refusing the archive path %r below the mirror" % relative)
    return "/".join(parts)


def mirrored_url(url, mirror):
    """Where the controller downloads ``url`` when the task gives ``mirror`` (with its credentials).

    As uv does: a URL below GitHub's release folder (a downloads JSON entry, or what uv 0.8 prints)
    or below the mirror (what uv 0.9+ prints, password masked) becomes the same file below
    ``mirror`` as given; any other URL stays as it is.
    """
    if not mirror:
        return url
    rest = _mirror_rest(url, mirror)
    if rest is None:
        return url
    return mirror.rstrip("/") + "/" + rest


def host_entries(entries, mirror_dir):
    """The downloads JSON entries as the host's uv gets them, with the archives pushed to
    ``<mirror_dir>/pyfleet/<file name>`` (a new dict; ``entries`` is not changed).

    uv refuses a downloads JSON entry that is not below the mirror that applies to it ("the URL does
    not match the expected format", uv 0.8.0 to 0.13.8), and a host's system uv.toml may set
    ``python-install-mirror``. So CPython entries name GitHub's release folder and PyPy entries
    ``downloads.python.org/pypy``, the prefixes that uv replaces with the mirror, and the module
    points both mirrors at the pushed folder; others (GraalPy) name the pushed file itself.
    """
    hosted = {}
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        name = PythonArchive(entry.get("url") or "").name
        if entry.get("name", "cpython") == "cpython":
            url = "%s/%s/%s" % (DEFAULT_PYTHON_MIRROR, HOSTED_FOLDER, quote(name))
        elif entry.get("name") == "pypy":
            url = "%s/%s/%s" % (DEFAULT_PYPY_MIRROR, HOSTED_FOLDER, quote(name))
        else:
            url = "file://%s/%s/%s" % (mirror_dir.rstrip("/"), HOSTED_FOLDER, quote(name))
        hosted[key] = dict(entry, url=url)
    return hosted


class PythonDownloads(object):
    """The controller's view of one uv_python task's sources, for one host of a run."""

    def __init__(self, options, cache_dir=None, warn=None):
        self.options = options
        self.cache_dir = cache_dir or default_cache_dir()
        self.memo = RunMemo(self.cache_dir)
        self.cache = ArtifactCache(self.cache_dir)
        self.warn = warn or (lambda text: None)
        self._http = None
        self.downloaded = []

    def http(self):
        if self._http is None:
            # Imported here: requests is needed only for http(s) sources.
            from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import ControllerFetcher  # pylint: disable=import-outside-toplevel
            self._http = ControllerFetcher(dict(timeout=self.options.get("timeout") or 30, use_proxy=True),
                                           retries=3)
        return self._http

    def fetcher(self, url):
        return FileFetcher() if _local_path(url) is not None else self.http()

    def downloads_json(self, url):
        """The downloads JSON at ``url`` as a dict, read once per run for all forks."""
        local = _local_path(url)
        if local is not None:
            try:
                with open(local, "rb") as handle:
                    body = handle.read(JSON_LIMIT + 1)
            except (IOError, OSError) as exc:
                raise MirrorError("cannot read the downloads JSON %s on the controller: %s" % (local, exc))
        else:
            def ask():
                answer = self.http().get_small(url, limit=JSON_LIMIT)
                return dict(status=answer.status, note=answer.note,
                            body=base64.b64encode(answer.body).decode("ascii") if answer.body is not None else None)
            value = self.memo.get(["python-downloads-json", url], ask)
            if value["status"] != 200 or value["body"] is None:
                raise MirrorError("reading the downloads JSON %s on the controller failed: %s %s" % (
                    redact_url(url), "HTTP %s" % value["status"] if value["status"] != -1 else "connection failed",
                    value["note"] or ""))
            body = base64.b64decode(value["body"])
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise MirrorError("the downloads JSON %s is not valid JSON: %s" % (redact_url(url), exc))
        if not isinstance(data, dict):
            raise MirrorError("the downloads JSON %s is not an object of downloads by key" % redact_url(url))
        return data

    def fetch(self, url, expected=None):
        """The controller's cached copy of the archive at ``url``: ``(path, sha256)``.

        With ``expected`` (the downloads JSON's sha256) the download must match it; without
        (a mirror: uv on the host checks the sha256 built into it), the first fork's download
        decides the sha256 for the run.
        """
        archive = PythonArchive(url)
        if not expected:
            def first():
                path, got = self._fetch_once(archive, None)
                return got
            expected = self.memo.get(["python-sha256-of", url], first)
        path, got = self._fetch_once(archive, expected)
        self.downloaded.append(dict(url=redact_url(url), sha256=got, name=archive.name))
        return path, got

    def _fetch_once(self, archive, expected):
        path, got, _new = self.cache.fetch(archive, expected, self.fetcher(archive.url), ARCHIVE_LIMIT, self.warn)
        if path is None:
            answer = got
            raise MirrorError("downloading %s on the controller failed: %s%s; nothing was changed on the host" % (
                redact_url(archive.url), "HTTP %s" % answer.status if answer.status != -1 else "connection failed",
                " (%s)" % answer.note if answer.note else ""))
        return path, got


# uv's name of an arch family in installation keys, where it differs from the downloads JSON's
# (download-metadata.json says i686; uv installs that as cpython-3.9.2-linux-x86-gnu).
UV_ARCH_NAMES = {"i686": "x86"}
UV_VARIANT_SUFFIXES = {"freethreaded": "+freethreaded", "debug": "+debug", "freethreaded+debug": "+freethreaded+debug"}


def json_entry_for(entries, key):
    """``(name, entry)`` of the downloads JSON entry that uv installs as ``key``, or ``(None, None)``.

    The JSON's own names are labels: uv builds the installation key from the entry's fields,
    so match those (an i686 entry is installed as ``...-linux-x86-gnu``)."""
    if key in entries:
        return key, entries[key]
    for name, entry in entries.items():
        arch = entry.get("arch") or {}
        family = UV_ARCH_NAMES.get(arch.get("family"), arch.get("family"))
        if arch.get("variant"):
            family = "%s_%s" % (family, arch["variant"])
        built = "%s-%s.%s.%s%s%s-%s-%s-%s" % (
            entry.get("name"), entry.get("major"), entry.get("minor"), entry.get("patch"), entry.get("prerelease") or "",
            UV_VARIANT_SUFFIXES.get(entry.get("variant") or "", ""), entry.get("os"), family, entry.get("libc"))
        if built == key:
            return name, entry
    return None, None
