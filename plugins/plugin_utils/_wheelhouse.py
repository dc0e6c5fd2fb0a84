# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The locked wheels of a fleet, downloaded once on the controller (uv_sync, download_on=controller).

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
``fetch`` takes the ``files`` of ``_uv_lock.plan`` and puts each in the sha256-keyed
controller cache (``_cache.ArtifactCache``): one download per file for the whole fleet
(forks wait on the file's lock and find it there), checked against uv.lock's sha256
before it is renamed into the cache (a mismatch leaves nothing behind), and a file
already cached is hashed again instead of asked for. Downloads go through
``_http.ControllerFetcher`` (``requests``, imported only here), hop by hop.

Credentials: uv.lock never holds them (uv writes index URLs without user info). Those
given to the task (``url_username``/``url_password``, ``headers``, user info of
``index_url`` or ``extra_index_urls``) belong to the index each package was locked from
(its ``source = { registry = ... }``) and go to that index's origin only: a file on
another host (an index's file server) or a redirect to another origin gets none
(``_credentials.Credentials``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.pyfleet.uv.plugins.module_utils._credentials import origin, same_origin
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_url
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import ArtifactCache, default_cache_dir

__all__ = ["LockedFile", "fetch", "source_options"]

# A wheel larger than the lock says is refused once it passes the lock's size by this much
# (the sha256 check would refuse it anyway; this bounds what a wrong server can send).
SIZE_SLACK = 1024 * 1024
NO_SIZE_LIMIT = 2 * 1024 * 1024 * 1024


class LockedFile(object):
    """One file of the plan, in the shape ``ArtifactCache.fetch`` takes."""

    def __init__(self, name, url):
        self.name = name
        self.url = url

    def as_dict(self):
        return dict(name=self.name, url=redact_url(self.url))


def source_options(options, index, url):
    """The URL options for downloading ``url`` of a package locked from ``index`` (``None``: a URL source).

    The credentials' source (``index_url``, what ``_credentials`` sends credentials to) is the
    lock's index; it takes the user info of the task's ``index_url`` or ``extra_index_urls``
    entry on the same origin, if any.
    """
    options = dict(options or {})
    source = index or url
    for given in [options.get("index_url")] + list(options.get("extra_index_urls") or []):
        if given and same_origin(given, source):
            source = given
            break
    options["index_url"] = source
    options.pop("mirror_url", None)
    return options


def _origin_text(url):
    """``scheme://host:port`` of ``url`` (``_credentials.origin``: the rule credentials follow), no user info."""
    found = origin(url)
    return "%s://%s:%s" % found if found else redact_url(url)


def foreign_refusal(name, answer, url, index):
    """Why a 401 or 403 came back, when it came from another origin than ``index`` (the one credentials go to);
    ``""`` otherwise."""
    answered = getattr(answer, "url", None) or url
    if answer.status not in (401, 403) or not index or same_origin(answered, index):
        return ""
    host, home = _origin_text(answered), _origin_text(index)
    return (". %s answered %d, and it is not the origin of the index %s was locked from: credentials are sent only "
            "to the origin of the index %s (url_username and url_password, headers, the user info of index_url), never "
            "to another host (a file server, a redirect's target), so %s got none. Let %s serve the file without them, "
            "or have the index serve its files itself" % (host, answer.status, name, home, host, host))


def fetch(files, cache_dir=None, options=None, warn=None, fetcher_factory=None):
    """Each of ``files`` (``plan()["files"]``) in the controller cache: ``{file name: {"path", "sha256",
    "size", "downloaded"}}``.

    ``downloaded`` is false for a file that was cached already (and hashed again). ``options``:
    the task's URL options (``timeout``, ``validate_certs``, ``ca_path``, ``use_proxy``,
    ``client_cert``, ``client_key``, ``http_agent``, ``url_username``, ``url_password``,
    ``force_basic_auth``, ``headers``, ``index_url``, ``extra_index_urls``, ``download_retries``).
    ``fetcher_factory(options)`` makes the fetcher (default ``_http.ControllerFetcher``).
    Raises ``ChecksumError`` when a download does not match uv.lock (naming the file, both
    sha256 and the URL without credentials; nothing is kept) and ``MirrorError`` when a file
    cannot be downloaded.
    """
    options = dict(options or {})
    warn = warn or (lambda text: None)
    cache = ArtifactCache(cache_dir or default_cache_dir())
    if fetcher_factory is None:
        def fetcher_factory(opts):
            # Imported here: requests is needed only when the controller downloads.
            from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import ControllerFetcher  # pylint: disable=import-outside-toplevel
            return ControllerFetcher(opts, retries=opts.get("download_retries", 3))
    fetchers = {}
    out = {}
    for name in sorted(files):
        entry = files[name]
        opts = source_options(options, entry.get("index"), entry["url"])
        fetcher = fetchers.get(opts["index_url"])
        if fetcher is None:
            fetcher = fetchers[opts["index_url"]] = fetcher_factory(opts)
        size = entry.get("size")
        limit = size + SIZE_SLACK if isinstance(size, int) and size >= 0 else NO_SIZE_LIMIT
        try:
            path, sha256, downloaded = cache.fetch(LockedFile(name, entry["url"]), entry["sha256"], fetcher, limit, warn)
        except ChecksumError as exc:
            raise ChecksumError(
                "%s does not match uv.lock: uv.lock says sha256 %s, the file downloaded from %s has sha256 %s; "
                "nothing was kept in the controller cache and no host was changed. If the index replaced the "
                "file, find out why before you run uv lock again"
                % (name, entry["sha256"], redact_url(entry["url"]), exc.details.get("actual", "(see above)")),
                expected=entry["sha256"], actual=exc.details.get("actual"), url=redact_url(entry["url"]))
        if path is None:
            answer = sha256
            raise MirrorError("downloading %s from %s on the controller failed: %s%s; no host was changed%s" % (
                name, redact_url(entry["url"]),
                "HTTP %s" % answer.status if answer.status != -1 else "connection failed",
                " (%s)" % answer.note if answer.note else "", foreign_refusal(name, answer, entry["url"], opts["index_url"])),
                url=redact_url(entry["url"]))
        out[name] = dict(path=path, sha256=sha256, size=os.path.getsize(path), downloaded=downloaded)
    return out
