# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shared source logic, run on the controller: resolve, locate and fetch once per run.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
The decisions are the host's own (``module_utils.install._artifacts.SourceClient`` over the
pure source rooms of ``module_utils``); only the transport differs: ``requests``, with every
answer shared by the run's forks (``_cache.RunMemo``) and every artifact downloaded
once into the controller cache (``_cache.ArtifactCache``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import MAX_ARCHIVE_BYTES, Notes, SourceClient, status_text
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.index_pages import validate_index_url
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import parse_checksum_option, validate_template
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import is_specifier, source_argument_spec, version_key
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import ArtifactCache, MemoFetcher, RunMemo, default_cache_dir
from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import ControllerFetcher

__all__ = ["ControllerSource", "pick_version", "source_options"]


def source_options(args):
    """The task's source and URL options with the modules' defaults filled in."""
    options = dict((name, spec.get("default")) for name, spec in source_argument_spec().items())
    options.update((name, value) for name, value in args.items() if name in options and value is not None)
    if options["mirror_url"] and options["index_url"]:
        raise MirrorError("parameters are mutually exclusive: mirror_url|index_url")
    if options["index_url"]:
        validate_index_url(options["index_url"])
    elif options["mirror_url"]:
        validate_template(options["mirror_url"])
    return options


def pick_version(versions, spec):
    """The highest version in ``versions`` (``{version: all yanked}``) that ``spec`` admits, or ``None``.

    Uses ``packaging`` (always installed with ansible-core): yanked releases never
    match, and pre-releases only when the specifier names one (PEP 440).
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # pylint: disable=import-outside-toplevel
    from packaging.version import InvalidVersion, Version  # pylint: disable=import-outside-toplevel

    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise MirrorError("version %r is not a valid PEP 440 specifier set: %s" % (spec, exc))
    usable = []
    for version, yanked in versions.items():
        if yanked:
            continue
        try:
            usable.append((Version(version), version))
        except InvalidVersion:
            continue
    admitted = set(str(v) for v in specifiers.filter([v for v, _text in usable]))
    matching = [(v, text) for v, text in usable if str(v) in admitted]
    return max(matching)[1] if matching else None


class ControllerSource(object):
    """One source as the controller sees it, for one task on one host of a run, for one tool."""

    def __init__(self, args, cache_dir, warn, tool=UV):
        self.tool = get_tool(tool)
        self.options = source_options(args)
        self.cache_dir = cache_dir or default_cache_dir()
        self.memo = RunMemo(self.cache_dir)
        self.http = ControllerFetcher(self.options, retries=self.options["download_retries"])
        self.fetcher = MemoFetcher(self.http, self.memo)
        self.notes = Notes()
        self.warn = warn
        self.checksum = parse_checksum_option(self.options["checksum"])
        self.client = SourceClient(self.options, self.checksum, self.fetcher, self.notes, warn, self.tool)
        self.cache = ArtifactCache(self.cache_dir)

    @property
    def kind(self):
        return self.client.kind

    def describe(self):
        return self.client.describe()

    def resolve(self, version):
        """The exact version for ``version``, decided once per run and source.

        Specifier sets need a source that lists its versions (an index). ``latest`` on
        a release mirror stays ``latest``: the mirror's alias is read once per run, and
        the one file it gives is what every host of the run gets.
        """
        def compute():
            if is_specifier(version):
                if self.kind != "index":
                    raise MirrorError(
                        "version %r is a specifier set, which needs a source that lists its versions: use "
                        "index_url, or pin an exact X.Y.Z (a release mirror cannot list its releases)" % version)
                page = self.client.read_page(None)
                found = pick_version(page.versions, version)
                if found is None:
                    raise MirrorError("no %s release on the %s matches %r (not yanked); it lists %s" % (
                        self.tool.name, self.describe(), version, ", ".join(sorted(page.versions, key=lambda v: version_key(v) or ())[-8:])
                        or "none"))
                return found
            return self.client.resolve(version)
        return self.memo.get(["resolve", self.tool.name, self.describe(), version], compute)

    def locate(self, version, targets):
        """``(artifact, expected sha256)`` for each target the source serves, best first."""
        self.client.resolve(version)
        return self.client.locate(version, targets)

    def fetch(self, artifact, expected):
        """The controller's copy of ``artifact``: ``(path, sha256)``, or ``(None, None)`` if not served (noted)."""
        if not expected:
            # No published checksum (allow_missing_checksum): the first fork's download
            # decides the sha256 for the whole run.
            def first():
                path, got, _new = self._fetch_once(artifact, None)
                return got if path else None
            expected = self.memo.get(["sha256-of", artifact.url], first)
            if expected is None:
                return None, None
        path, got, _new = self._fetch_once(artifact, expected)
        return (path, got) if path else (None, None)

    def _fetch_once(self, artifact, expected):
        path, got, new = self.cache.fetch(artifact, expected, self.http, MAX_ARCHIVE_BYTES, self.warn)
        if path is None:
            answer = got
            if answer.status in (404, 410, 403):
                self.notes.add(artifact.target, "not served (%s)" % status_text(answer.status))
                return None, None, new
            raise MirrorError("downloading %s on the controller failed: %s (%s)" % (
                redact_url(artifact.url), status_text(answer.status), answer.note))
        return path, got, new

    def tried(self):
        return self.fetcher.tried()
